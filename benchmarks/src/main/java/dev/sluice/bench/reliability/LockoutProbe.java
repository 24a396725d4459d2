package dev.sluice.bench.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The hardening issue's lock-out: two streaming requests with n=128 and max_tokens 2000 should
 * not keep a small request from being served. Starts both, waits until they run, sends a
 * 4-token chat request and times it, then drops the two streams.
 */
final class LockoutProbe {

    record Result(boolean ok, String summary) {
    }

    private final ServerProcess server;
    private final Duration probeTimeout;

    LockoutProbe(ServerProcess server, Duration probeTimeout) {
        this.server = server;
        this.probeTimeout = probeTimeout;
    }

    Result run() throws InterruptedException {
        String big = "{\"prompt\":\"Once upon a time\",\"n\":128,\"max_tokens\":2000,\"ignore_eos\":true,\"stream\":true}";
        Duration hold = probeTimeout.plusSeconds(15);
        List<Thread> streams = new ArrayList<>();
        List<RawExchange.Result> bigResults = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 2; i++) {
            streams.add(Thread.ofVirtual().start(() -> bigResults.add(RawExchange.exchange(server.address(),
                    HttpWire.post(Bodies.COMPLETIONS, big), FuzzCase.Send.NORMAL, hold))));
        }
        long waitEnd = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        double running = 0;
        while (System.nanoTime() < waitEnd && (running = server.metric("sluice:num_requests_running").orElse(0)) < 2) {
            Thread.sleep(100);
        }
        HttpCheck.Reply probe = server.http().post(Bodies.CHAT,
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":4}", probeTimeout);
        for (Thread t : streams) {
            t.join();
        }
        String bigStatus = bigResults.stream().map(r -> r.status() > 0 ? "HTTP " + r.status() : r.ending().toString())
                .reduce((a, b) -> a + ", " + b).orElse("none");
        boolean ok = probe.status() == 200;
        String summary = (ok ? "probe answered 200 in " + Math.round(probe.millis()) + " ms"
                : "probe " + (probe.status() < 0 ? "got no response within " + probeTimeout.toSeconds() + " s" : "got HTTP " + probe.status()))
                + " (requests running when it was sent: " + Math.round(running) + "; the two big streams: " + bigStatus + ")";
        return new Result(ok, summary);
    }
}
