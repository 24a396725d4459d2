package dev.sluice.bench.reliability;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Thousands of streaming requests at a fixed concurrency, a share of whose clients disconnect at a
 * random point. Afterwards, once idle, no KV block may still be in use; the server's RSS is
 * sampled throughout and must not grow between the first and last quarter of the requests. A
 * warm-up of the same kind of requests runs first, unmeasured: the JVM grows its heap to its
 * working size over the first ~1000.
 */
final class SoakPhase {

    static final String NAME = "soak";

    /** One request's plan. */
    record Planned(int index, boolean chat, String body, StreamClient.Plan plan) {
    }

    private final Suite suite;

    SoakPhase(Suite suite) {
        this.suite = suite;
    }

    /** The requests, deterministic from the seed. */
    static List<Planned> plan(long seed, int count, double disconnectFraction, int maxTokens) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Planned> plans = new ArrayList<>(count);
        StreamClient.Disconnect[] where = {StreamClient.Disconnect.BEFORE_HEADERS, StreamClient.Disconnect.AFTER_FIRST_TOKEN,
                StreamClient.Disconnect.MID_STREAM};
        for (int i = 0; i < count; i++) {
            boolean chat = r.nextBoolean();
            int tokens = r.nextInt(Math.min(8, maxTokens), maxTokens + 1);
            String body = Prompts.streaming(chat, Prompts.words(r, r.nextInt(8, 121)), tokens);
            StreamClient.Plan plan = StreamClient.Plan.full();
            if (r.nextDouble() < disconnectFraction) {
                StreamClient.Disconnect d = where[r.nextInt(where.length)];
                plan = StreamClient.Plan.drop(d, r.nextInt(2, Math.max(3, tokens)), r.nextInt(0, 200));
            }
            plans.add(new Planned(i, chat, body, plan));
        }
        return plans;
    }

    PhaseResult run() throws IOException, InterruptedException {
        SuiteOptions o = suite.options();
        int count = o.integer("soak-requests");
        int concurrency = o.integer("concurrency");
        double fraction = o.decimal("disconnect-fraction");
        int maxTokens = o.integer("soak-max-tokens");
        List<Planned> plans = plan(o.integer("seed"), count, fraction, maxTokens);
        List<String> args = new ArrayList<>(suite.threadArgs());
        if (o.integer("soak-kv-tokens") > 0) {
            args.addAll(List.of("--kv-cache-tokens", Integer.toString(o.integer("soak-kv-tokens"))));
        }
        String jvm = o.text("soak-jvm-options").strip();
        ServerProcess.Launcher launcher = jvm.isEmpty() ? suite.launcher() : suite.launcher().withJvmArgs(List.of(jvm.split("\\s+")));
        try (ServerProcess server = launcher.start(NAME, args)) {
            // One request first, so "before" is a server that has served.
            String warm = server.http().normalRequestProblem(Duration.ofSeconds(120));
            int warmups = o.integer("soak-warmup-requests");
            if (warmups > 0) {
                long rss = server.rssBytes().orElse(-1);
                drive(server, plan(o.integer("seed") + 1, warmups, fraction, maxTokens), concurrency, new AtomicLong(),
                        new ConcurrentHashMap<>(), "warm-up ", System.nanoTime());
                Suite.progress(NAME, warmups + " warm-up requests done; RSS " + (rss < 0 ? "n/a" : Stats.mib(rss)) + " to "
                        + server.rssBytes().stream().mapToObj(Stats::mib).findFirst().orElse("n/a"));
            }
            long before = server.rssBytes().orElse(-1);
            AtomicLong completed = new AtomicLong();
            Map<Integer, StreamClient.Result> results = new ConcurrentHashMap<>();
            long start = System.nanoTime();
            RssSampler.Quarters quarters;
            List<RssSampler.Sample> samples;
            try (RssSampler sampler = new RssSampler(server, completed::get, 250)) {
                drive(server, plans, concurrency, completed, results, "", start);
                samples = sampler.samples();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            quarters = RssSampler.quarters(samples, count);
            OptionalDouble kvUsed = server.idleKvBlocksUsed(Duration.ofSeconds(60));
            long after = server.rssBytes().orElse(-1);
            String aliveProblem = server.alive() ? server.http().normalRequestProblem(Duration.ofSeconds(120)) : "the server exited";
            suite.writeRaw("soak-rss.tsv", samples.stream().map(s -> s.completed() + "\t" + s.rssBytes())
                    .reduce("completed\trss_bytes", (a, b) -> a + "\n" + b) + "\n");
            double[] tenths = RssSampler.tenths(samples, count);
            return report(server, plans, results, quarters, tenths, before, after, kvUsed, aliveProblem, warm, seconds);
        }
    }

    /** Sends {@code plans} from {@code concurrency} clients, each its next request when one ends. */
    private static void drive(ServerProcess server, List<Planned> plans, int concurrency, AtomicLong completed,
                              Map<Integer, StreamClient.Result> results, String what, long start) {
        AtomicInteger next = new AtomicInteger();
        int count = plans.size();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int w = 0; w < concurrency; w++) {
                pool.submit(() -> {
                    int i;
                    while ((i = next.getAndIncrement()) < count) {
                        Planned p = plans.get(i);
                        results.put(i, StreamClient.stream(server.address(), Prompts.path(p.chat()), p.body(), p.plan(),
                                Duration.ofSeconds(300), "reliability-soak-" + what.strip() + (what.isEmpty() ? "" : "-") + i));
                        long done = completed.incrementAndGet();
                        if (done % Math.max(1, count / 10) == 0) {
                            Suite.progress(NAME, what + done + "/" + count + " requests, "
                                    + Math.round((System.nanoTime() - start) / 1e9) + " s");
                        }
                    }
                });
            }
        }
    }

    private PhaseResult report(ServerProcess server, List<Planned> plans, Map<Integer, StreamClient.Result> results,
                               RssSampler.Quarters quarters, double[] tenths, long before, long after, OptionalDouble kvUsed,
                               String aliveProblem, String warm, double seconds) {
        SuiteOptions o = suite.options();
        int fiveXx = 0;
        int fullOk = 0;
        int fullPlanned = 0;
        Map<StreamClient.Disconnect, Integer> dropped = new EnumMap<>(StreamClient.Disconnect.class);
        Map<String, Integer> errors = new TreeMap<>();
        for (Planned p : plans) {
            StreamClient.Result r = results.get(p.index());
            if (r == null) {
                errors.merge("no result", 1, Integer::sum);
                continue;
            }
            if (r.status() >= 500) {
                fiveXx++;
            }
            if (r.disconnected()) {
                dropped.merge(p.plan().disconnect(), 1, Integer::sum);
            }
            if (p.plan().disconnect() == StreamClient.Disconnect.NONE) {
                fullPlanned++;
                if (r.complete()) {
                    fullOk++;
                }
            }
            if (r.error() != null) {
                errors.merge(errorKind(r.error()), 1, Integer::sum);
            }
        }
        List<Criterion> criteria = new ArrayList<>();
        criteria.add(Criterion.check("0 5xx in the soak", fiveXx == 0, fiveXx + " of " + plans.size()));
        criteria.add(Criterion.check("every client that reads to the end gets a complete stream", fullOk == fullPlanned,
                fullOk + " of " + fullPlanned));
        boolean kvOk = kvUsed.isPresent() && kvUsed.getAsDouble() == 0;
        criteria.add(Criterion.check("0 leaked KV blocks after the soak", kvOk,
                kvUsed.isPresent() ? Math.round(kvUsed.getAsDouble()) + " blocks in use once idle" : "metric sluice:kv_cache_blocks_used missing"));
        double growth = quarters.growthPercent();
        double limit = o.decimal("rss-growth-limit");
        criteria.add(Criterion.check("RSS growth under " + fmt(limit) + " % between the first and last quarter",
                !Double.isNaN(growth) && growth < limit, Double.isNaN(growth) ? "too few samples"
                        : String.format("%+.1f %% (%s to %s)", growth, Stats.mib(quarters.firstBytes()), Stats.mib(quarters.lastBytes()))));
        criteria.add(Criterion.check("the engine still serves after the soak", aliveProblem == null,
                aliveProblem == null ? "a normal request succeeded" : aliveProblem));

        StringBuilder md = new StringBuilder();
        String jvm = suite.options().text("soak-jvm-options").strip();
        md.append("JVM options added to bin/server's: ").append(jvm.isEmpty() ? "none" : "`" + jvm + "`")
                .append(" (a fixed, pre-committed heap: RSS then shows native and off-heap memory, where a leak of KV, graph or "
                        + "sampler memory would show; with the defaults G1 grows the heap for the first thousand or so requests). ")
                .append(suite.options().integer("soak-warmup-requests")).append(" warm-up requests of the same kind ran first.\n\n");
        md.append(String.format("%d streaming requests (chat and completions alternating at random, 8-120-word prompts, "
                        + "%d-%d tokens out with ignore_eos) in %.0f s at concurrency %d, %.0f %% of clients disconnecting.%n%n",
                plans.size(), Math.min(8, o.integer("soak-max-tokens")), o.integer("soak-max-tokens"), seconds,
                o.integer("concurrency"), o.decimal("disconnect-fraction") * 100));
        md.append("| figure | value |\n|---|---:|\n");
        md.append("| clients that read to the end, complete | ").append(fullOk).append(" / ").append(fullPlanned).append(" |\n");
        for (StreamClient.Disconnect d : List.of(StreamClient.Disconnect.BEFORE_HEADERS, StreamClient.Disconnect.AFTER_FIRST_TOKEN,
                StreamClient.Disconnect.MID_STREAM)) {
            md.append("| disconnected ").append(d.label()).append(" | ").append(dropped.getOrDefault(d, 0)).append(" |\n");
        }
        md.append("| 5xx | ").append(fiveXx).append(" |\n");
        md.append("| KV blocks in use once idle | ").append(kvUsed.isPresent() ? Math.round(kvUsed.getAsDouble()) : "n/a").append(" |\n");
        md.append("| RSS before (after one warm-up request) | ").append(before < 0 ? "n/a" : Stats.mib(before)).append(" |\n");
        md.append("| RSS, first-quarter mean (").append(quarters.firstSamples()).append(" samples) | ")
                .append(Stats.mib(quarters.firstBytes())).append(" |\n");
        md.append("| RSS, last-quarter mean (").append(quarters.lastSamples()).append(" samples) | ")
                .append(Stats.mib(quarters.lastBytes())).append(" |\n");
        md.append("| RSS after, idle | ").append(after < 0 ? "n/a" : Stats.mib(after)).append(" |\n");
        md.append(String.format("| RSS growth, first to last quarter | %+.1f %% |%n", growth));
        PromText m = server.metrics();
        md.append("| preemptions | ").append(fmt(m.value("sluice:num_preemptions_total").orElse(Double.NaN))).append(" |\n");
        md.append("| KV pool: blocks in all / at peak | ").append(fmt(m.value("sluice:kv_cache_blocks_total").orElse(Double.NaN)))
                .append(" / ").append(fmt(m.value("sluice:kv_cache_blocks_peak").orElse(Double.NaN))).append(" |\n\n");
        StringBuilder shape = new StringBuilder();
        for (double t : tenths) {
            shape.append(shape.isEmpty() ? "" : ", ").append(Double.isNaN(t) ? "n/a" : String.format("%.0f", t / (1024 * 1024)));
        }
        md.append("RSS by tenth of the requests, MiB: ").append(shape).append(".\n\n");
        md.append("RSS samples every 250 ms, tagged with the requests completed so far: the first quarter is the samples taken "
                + "before a quarter of the measured requests had completed, the last quarter those after three quarters; the "
                + "warm-up requests before them are not measured (the JVM grows its heap to its working size). The KV pool is "
                + "anonymous memory committed as its blocks are first used, and freed blocks stay cached for prefix reuse, so "
                + "allocation cycles through the whole pool: it is sized (`--soak-kv-tokens`) so that the first quarter already "
                + "touches all of it, and growth after that is not the pool filling in.\n\n");
        if (warm != null) {
            md.append("The warm-up request failed: ").append(warm).append("\n\n");
        }
        if (!errors.isEmpty()) {
            md.append("Errors (planned disconnects are not errors):\n\n| error | count |\n|---|---:|\n");
            errors.forEach((k, v) -> md.append("| ").append(ReportWriter.cell(k)).append(" | ").append(v).append(" |\n"));
        }
        String setup = "Server: `" + server.options() + "` (the defaults of `bin/server` otherwise).";
        return new PhaseResult(NAME, "Soak: streaming with client disconnects", setup, criteria, md.toString());
    }

    /** An error message without its numbers, so that like errors count together. */
    static String errorKind(String error) {
        return HttpWire.abbreviate(error.replaceAll("\\d+", "N"), 120);
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "n/a" : v == Math.rint(v) ? Long.toString((long) v) : String.format("%.2f", v);
    }
}
