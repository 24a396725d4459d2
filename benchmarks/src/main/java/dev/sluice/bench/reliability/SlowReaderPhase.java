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

    private static final int ROUNDS = 2;

    /** The normal clients' measurements in one setting, pooled over the rounds. */
    record Run(String label, int requests, List<Double> e2eMs, List<Double> ttftMs, int backgroundComplete, int backgroundCut) {

        Run plus(Run other) {
            List<Double> e2e = new ArrayList<>(e2eMs);
            e2e.addAll(other.e2eMs);
            List<Double> ttft = new ArrayList<>(ttftMs);
            ttft.addAll(other.ttftMs);
            return new Run(label, requests + other.requests, e2e, ttft, backgroundComplete + other.backgroundComplete,
                    backgroundCut + other.backgroundCut);
        }

        int complete() {
            return e2eMs.size();
        }

        double e2eP50Ms() {
            return Stats.percentile(e2eMs, 50);
        }
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
            // The three settings in turn, twice: the machine's noise then falls on all of them alike.
            Run alone = null;
            Run fast = null;
            Run slowRun = null;
            for (int round = 0; round < ROUNDS; round++) {
                Run a = measure(server, "alone", 0, null);
                Run f = measure(server, "beside " + slow + " fast readers", slow, StreamClient.Plan.full());
                Run s = measure(server, "beside " + slow + " slow readers", slow, null);
                alone = alone == null ? a : alone.plus(a);
                fast = fast == null ? f : fast.plus(f);
                slowRun = slowRun == null ? s : slowRun.plus(s);
                Suite.progress(NAME, "round " + (round + 1) + ": E2E p50 alone " + Stats.ms(a.e2eP50Ms()) + ", beside fast readers "
                        + Stats.ms(f.e2eP50Ms()) + ", beside slow readers " + Stats.ms(s.e2eP50Ms()));
            }
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
        return new Run(label, normal.size(), e2e, ttft, backgroundComplete, stillOpen);
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
        criteria.add(Criterion.info("normal clients' median latency beside slow readers / alone",
                String.format("%.2fx (%s vs %s)", slow.e2eP50Ms() / alone.e2eP50Ms(), Stats.ms(slow.e2eP50Ms()), Stats.ms(alone.e2eP50Ms()))));
        criteria.add(Criterion.info("... beside slow readers / beside as many fast readers",
                String.format("%.2fx (%s vs %s)", slow.e2eP50Ms() / fast.e2eP50Ms(), Stats.ms(slow.e2eP50Ms()), Stats.ms(fast.e2eP50Ms()))));
        criteria.add(Criterion.check("the engine still serves afterwards", problem == null, problem == null ? "a normal request succeeded" : problem));
        SuiteOptions o = suite.options();
        StringBuilder md = new StringBuilder();
        md.append(String.format("%d normal clients, each sending %d streaming chat requests (32 words in, %d tokens out) one after "
                        + "another, in three settings taken in turn, %d rounds pooled. Background: %d streams of %d tokens; slow ones alternate between reading 32 bytes every 250 ms "
                        + "through a 2 KiB receive buffer and stopping for 15 s after their second chunk. Background streams still "
                        + "open when the normal clients finish are closed.%n%n",
                o.integer("normal-clients"), o.integer("normal-requests"), NORMAL_TOKENS, ROUNDS, o.integer("slow-readers"), LONG_TOKENS));
        md.append("| normal clients | complete | E2E p50 | E2E mean | E2E p90 | TTFT p50 | background streams complete / closed by the suite |\n"
                + "|---|---:|---:|---:|---:|---:|---:|\n");
        for (Run run : runs) {
            md.append("| ").append(run.label()).append(" | ").append(run.complete()).append(" / ").append(run.requests())
                    .append(" | ").append(Stats.ms(run.e2eP50Ms())).append(" | ").append(Stats.ms(Stats.mean(run.e2eMs())))
                    .append(" | ").append(Stats.ms(Stats.percentile(run.e2eMs(), 90)))
                    .append(" | ").append(Stats.ms(Stats.percentile(run.ttftMs(), 50))).append(" | ").append(run.backgroundComplete())
                    .append(" / ").append(run.backgroundCut()).append(" |\n");
        }
        md.append(String.format("%nRatios of the normal clients' median E2E: beside slow readers / alone %.2fx; beside slow / beside "
                + "fast readers %.2fx (above 1: slow readers cost more than their compute). The machine is shared: single "
                + "requests stall for seconds now and then, so read the medians, not the means.%n", slow.e2eP50Ms() / alone.e2eP50Ms(),
                slow.e2eP50Ms() / fast.e2eP50Ms()));
        String setup = "Server: `" + server.options() + "`.";
        return new PhaseResult(NAME, "Slow readers", setup, criteria, md.toString());
    }
}
