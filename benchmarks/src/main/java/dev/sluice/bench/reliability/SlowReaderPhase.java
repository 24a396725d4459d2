package dev.sluice.bench.reliability;

import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Normal streaming clients measured three times: alone, beside as many fast readers of long
 * streams as there will be slow ones (the same extra compute), and beside slow readers (a small
 * receive buffer and tiny paced reads, or reading that stops for a while). Slow readers must not
 * hold the others back beyond their own compute, and their KV blocks must be freed at the end.
 */
final class SlowReaderPhase {

    static final String NAME = "slow-readers";
    private static final int LONG_TOKENS = 400;
    private static final int NORMAL_TOKENS = 32;

    /** The normal clients' figures in one run. */
    record Run(String label, int requests, int complete, double e2eMeanMs, double e2eP90Ms, double ttftP50Ms,
               int backgroundComplete, int backgroundCut) {
    }

    private final Suite suite;

    SlowReaderPhase(Suite suite) {
        this.suite = suite;
    }

    PhaseResult run() throws IOException, InterruptedException {
        SuiteOptions o = suite.options();
        int slow = o.integer("slow-readers");
        try (ServerProcess server = suite.launcher().start(NAME, suite.threadArgs())) {
            server.http().normalRequestProblem(Duration.ofSeconds(120)); // warm-up
            Run alone = measure(server, "alone", 0, null);
            Suite.progress(NAME, "alone: " + Stats.ms(alone.e2eMeanMs()) + " mean");
            Run fast = measure(server, "beside " + slow + " fast readers", slow, StreamClient.Plan.full());
            Suite.progress(NAME, "beside fast readers: " + Stats.ms(fast.e2eMeanMs()) + " mean");
            Run slowRun = measure(server, "beside " + slow + " slow readers", slow, null);
            Suite.progress(NAME, "beside slow readers: " + Stats.ms(slowRun.e2eMeanMs()) + " mean");
            OptionalDouble kv = server.idleKvBlocksUsed(Duration.ofSeconds(60));
            String problem = server.alive() ? server.http().normalRequestProblem(Duration.ofSeconds(120)) : "the server exited";
            return report(server, List.of(alone, fast, slowRun), kv, problem);
        }
    }

    /** A slow reader's plan: even ones read 32 bytes every 250 ms through a 2 KiB buffer, odd ones stop for 15 s. */
    static StreamClient.Plan slowPlan(int i) {
        return i % 2 == 0
                ? new StreamClient.Plan(StreamClient.Disconnect.NONE, 0, 0, 2048, 32, 250, -1, 0)
                : new StreamClient.Plan(StreamClient.Disconnect.NONE, 0, 0, 2048, 0, 0, 2, 15_000);
    }

    /**
     * Runs the normal clients, with {@code background} long streams going on beside them (read
     * with {@code backgroundPlan}, or the slow plans when null); the streams still open when the
     * normal clients are done are closed.
     */
    private Run measure(ServerProcess server, String label, int background, StreamClient.Plan backgroundPlan)
            throws InterruptedException {
        SuiteOptions o = suite.options();
        List<Socket> sockets = Collections.synchronizedList(new ArrayList<>());
        List<StreamClient.Result> backgroundResults = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(o.integer("seed"));
        for (int i = 0; i < background; i++) {
            StreamClient.Plan plan = backgroundPlan != null ? backgroundPlan : slowPlan(i);
            String body = Prompts.streaming(i % 2 == 0, Prompts.words(r, 40), LONG_TOKENS);
            int id = i;
            threads.add(Thread.ofVirtual().start(() -> backgroundResults.add(StreamClient.stream(server.address(),
                    Prompts.path(id % 2 == 0), body, plan, Duration.ofSeconds(600), "reliability-reader-" + id,
                    new StreamClient.Listener() {
                        @Override
                        public void connected(Socket socket) {
                            sockets.add(socket);
                        }
                    }))));
        }
        if (background > 0) {
            Thread.sleep(2000); // let them start generating and fill their buffers
        }
        int clients = o.integer("normal-clients");
        int each = o.integer("normal-requests");
        List<StreamClient.Result> normal = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                int client = c;
                pool.submit(() -> {
                    SplittableRandom cr = new SplittableRandom(o.integer("seed") * 31L + client);
                    for (int k = 0; k < each; k++) {
                        normal.add(StreamClient.stream(server.address(), Bodies.CHAT,
                                Prompts.streaming(true, Prompts.words(cr, 32), NORMAL_TOKENS), StreamClient.Plan.full(),
                                Duration.ofSeconds(300), "reliability-normal-" + client + "-" + k));
                    }
                });
            }
        }
        int stillOpen;
        synchronized (sockets) {
            stillOpen = (int) threads.stream().filter(Thread::isAlive).count();
            for (Socket s : sockets) {
                try {
                    s.close();
                } catch (IOException e) {
                    // already closed
                }
            }
        }
        for (Thread t : threads) {
            t.join();
        }
        List<Double> e2e = normal.stream().filter(StreamClient.Result::complete).map(StreamClient.Result::e2eMillis).toList();
        List<Double> ttft = normal.stream().filter(StreamClient.Result::complete).map(StreamClient.Result::ttftMillis).toList();
        int backgroundComplete = (int) backgroundResults.stream().filter(StreamClient.Result::complete).count();
        return new Run(label, normal.size(), e2e.size(), Stats.mean(e2e), Stats.percentile(e2e, 90), Stats.percentile(ttft, 50),
                backgroundComplete, stillOpen);
    }

    private PhaseResult report(ServerProcess server, List<Run> runs, OptionalDouble kv, String problem) {
        Run alone = runs.get(0);
        Run fast = runs.get(1);
        Run slow = runs.get(2);
        int requests = runs.stream().mapToInt(Run::requests).sum();
        int complete = runs.stream().mapToInt(Run::complete).sum();
        List<Criterion> criteria = new ArrayList<>();
        criteria.add(Criterion.check("normal clients complete beside slow readers", complete == requests, complete + " of " + requests));
        boolean kvOk = kv.isPresent() && kv.getAsDouble() == 0;
        criteria.add(Criterion.check("slow readers' KV blocks freed at the end", kvOk,
                kv.isPresent() ? Math.round(kv.getAsDouble()) + " blocks in use once idle" : "metric missing"));
        criteria.add(Criterion.info("normal clients' mean latency beside slow readers / alone",
                String.format("%.2fx (%s vs %s)", slow.e2eMeanMs() / alone.e2eMeanMs(), Stats.ms(slow.e2eMeanMs()), Stats.ms(alone.e2eMeanMs()))));
        criteria.add(Criterion.info("... beside slow readers / beside as many fast readers",
                String.format("%.2fx (%s vs %s)", slow.e2eMeanMs() / fast.e2eMeanMs(), Stats.ms(slow.e2eMeanMs()), Stats.ms(fast.e2eMeanMs()))));
        criteria.add(Criterion.check("the engine still serves afterwards", problem == null, problem == null ? "a normal request succeeded" : problem));
        SuiteOptions o = suite.options();
        StringBuilder md = new StringBuilder();
        md.append(String.format("%d normal clients, each sending %d streaming chat requests (32 words in, %d tokens out) one after "
                        + "another. Background: %d streams of %d tokens; slow ones alternate between reading 32 bytes every 250 ms "
                        + "through a 2 KiB receive buffer and stopping for 15 s after their second chunk. Background streams still "
                        + "open when the normal clients finish are closed.%n%n",
                o.integer("normal-clients"), o.integer("normal-requests"), NORMAL_TOKENS, o.integer("slow-readers"), LONG_TOKENS));
        md.append("| normal clients | complete | E2E mean | E2E p90 | TTFT p50 | background streams complete / closed by the suite |\n"
                + "|---|---:|---:|---:|---:|---:|\n");
        for (Run run : runs) {
            md.append("| ").append(run.label()).append(" | ").append(run.complete()).append(" / ").append(run.requests())
                    .append(" | ").append(Stats.ms(run.e2eMeanMs())).append(" | ").append(Stats.ms(run.e2eP90Ms()))
                    .append(" | ").append(Stats.ms(run.ttftP50Ms())).append(" | ").append(run.backgroundComplete())
                    .append(" / ").append(run.backgroundCut()).append(" |\n");
        }
        md.append(String.format("%nRatios of the normal clients' mean E2E: beside slow readers / alone %.2fx; beside slow / beside "
                + "fast readers %.2fx (above 1: slow readers cost more than their compute).%n", slow.e2eMeanMs() / alone.e2eMeanMs(),
                slow.e2eMeanMs() / fast.e2eMeanMs()));
        String setup = "Server: `" + server.options() + "`.";
        return new PhaseResult(NAME, "Slow readers", setup, criteria, md.toString());
    }
}
