package dev.sluice.bench.reliability;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * A Sluice server this suite starts itself, as {@code bin/server} would run it (same JVM flags,
 * same main class), on a free port, with its log in a file.
 */
public final class ServerProcess implements AutoCloseable {

    /**
     * How to start servers: the JVM and its options (those {@code bin/server} uses), the api
     * module's class path, the model and fixed server options.
     */
    public record Launcher(Path java, List<String> jvmArgs, String classpath, Path model, List<String> commonArgs, Path logDir) {

        /** The same, with more JVM options after bin/server's. */
        public Launcher withJvmArgs(List<String> more) {
            List<String> all = new ArrayList<>(jvmArgs);
            all.addAll(more);
            return new Launcher(java, List.copyOf(all), classpath, model, commonArgs, logDir);
        }

        public ServerProcess start(String name, List<String> extraArgs) throws IOException, InterruptedException {
            int port = freePort();
            List<String> command = new ArrayList<>(List.of(java.toString()));
            command.addAll(jvmArgs);
            command.addAll(List.of("-cp", classpath, "dev.sluice.api.Main", "--model", model.toString(), "--port", Integer.toString(port)));
            command.addAll(commonArgs);
            command.addAll(extraArgs);
            Files.createDirectories(logDir);
            Path log = logDir.resolve(name + "-server.log");
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(log.toFile())).start();
            LIVE.add(process);
            ServerProcess server = new ServerProcess(process, port, log, command);
            server.awaitReady(Duration.ofMinutes(5));
            return server;
        }
    }

    /** Servers still running, killed if the suite itself is stopped (Ctrl-C), so none is left behind. */
    private static final java.util.Set<Process> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly)));
    }

    private final Process process;
    private final int port;
    private final Path log;
    private final List<String> command;
    private final HttpCheck http;

    private ServerProcess(Process process, int port, Path log, List<String> command) {
        this.process = process;
        this.port = port;
        this.log = log;
        this.command = command;
        this.http = new HttpCheck(address());
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    public InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    public boolean alive() {
        return process.isAlive();
    }

    public HttpCheck http() {
        return http;
    }

    /** The server's options as given on its command line, for the report. */
    public String options() {
        int main = command.indexOf("dev.sluice.api.Main");
        List<String> args = new ArrayList<>(command.subList(main + 1, command.size()));
        int model = args.indexOf("--model");
        if (model >= 0 && model + 1 < args.size()) {
            args.set(model + 1, Path.of(args.get(model + 1)).getFileName().toString());
        }
        int portAt = args.indexOf("--port");
        if (portAt >= 0) {
            args.remove(portAt + 1);
            args.remove(portAt);
        }
        return String.join(" ", args);
    }

    private void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (!process.isAlive()) {
                throw new IOException("the server exited with " + process.exitValue() + " before it was ready; log: "
                        + log + "\n" + logTail(20));
            }
            if (http.status("/health") == 200) {
                return;
            }
            Thread.sleep(250);
        }
        close();
        throw new IOException("the server was not ready after " + timeout.toSeconds() + " s; log: " + log);
    }

    public OptionalLong rssBytes() {
        return ProcStatus.rssBytes(process.pid());
    }

    /** The server's metrics now, or empty when it does not answer. */
    public PromText metrics() {
        HttpCheck.Reply reply = http.get("/metrics");
        return PromText.parse(reply.status() == 200 ? reply.body() : "");
    }

    public OptionalDouble metric(String name) {
        return metrics().value(name);
    }

    /**
     * Waits until no request runs or waits, then returns {@code sluice:kv_cache_blocks_used};
     * empty when the metric is missing.
     */
    public OptionalDouble idleKvBlocksUsed(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        PromText m = metrics();
        while (System.nanoTime() < end) {
            m = metrics();
            double busy = m.value("sluice:num_requests_running").orElse(0) + m.value("sluice:num_requests_waiting").orElse(0)
                    + m.value("sluice:num_requests_swapped").orElse(0);
            if (busy == 0 && m.value("sluice:kv_cache_blocks_used").orElse(1) == 0) {
                break;
            }
            Thread.sleep(250);
        }
        return m.value("sluice:kv_cache_blocks_used");
    }

    /** Sends SIGTERM (what {@code kill PID} sends). */
    public void sigterm() {
        process.destroy();
    }

    /** The exit code, once exited within the timeout. */
    public OptionalInt awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? OptionalInt.of(process.exitValue()) : OptionalInt.empty();
    }

    public String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            try {
                return new String(Files.readAllBytes(log), StandardCharsets.ISO_8859_1);
            } catch (IOException e2) {
                return "";
            }
        }
    }

    public String logTail(int lines) {
        List<String> all = logText().lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** SIGTERM, then SIGKILL if it has not exited within a minute. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            LIVE.remove(process);
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        LIVE.remove(process);
    }
}
