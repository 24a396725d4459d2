package dev.sluice.bench.load;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@code bin/contention} measured under one load (idle, busy loops, a compile): every
 * server's latencies of the same request, sent to the servers in turn so they see the same host
 * at the same moments. Written by {@code measure} as JSON, read back by {@code report}.
 *
 * @param load        the load's name, e.g. {@code loop2}
 * @param description what ran next to the servers, in words
 * @param startedAt   ISO-8601 time the measured requests began
 * @param seconds     how long they took in all
 * @param hostBefore  the host's load average and busiest other processes before the phase
 */
record ContentionPhase(String load, String description, String startedAt, double seconds, String hostBefore,
                       List<Server> servers) {

    /**
     * One server's samples. Times are milliseconds; {@code cpuMs} and {@code runQueueWaitMs} sum
     * all the server's threads over the measured requests (0 when its pid was not given).
     */
    record Server(String name, double[] e2eMs, double[] ttftMs, int errors, String firstError, double cpuMs,
                  double runQueueWaitMs) {

        int requests() {
            return e2eMs.length;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    void write(Path path) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        JSON.writeValue(path.toFile(), this);
    }

    static ContentionPhase read(Path path) throws IOException {
        return JSON.readValue(path.toFile(), ContentionPhase.class);
    }

    /** The named server's samples, or null when this phase did not measure it. */
    Server server(String name) {
        return servers.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
    }
}
