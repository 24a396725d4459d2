package dev.sluice.bench.reliability;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends the generated malformed and hostile requests, a batch at a time, and after every batch
 * checks that {@code /health} is 200 and a normal small request still succeeds (an engine that
 * died fails it; the server is then restarted so the run goes on, and the death is counted).
 * Unfinished requests (slowloris, truncated and left open) go together, as they only wait.
 * Then the lock-out scenario: two streaming n=128 requests of 2000 tokens, and a 4-token probe.
 */
final class FuzzPhase {

    static final String NAME = "fuzz";
    private static final int LISTED = 40;

    /** One case's outcome. */
    record Outcome(FuzzCase fuzzCase, RawExchange.Result result, ResponseClass responseClass) {
        boolean proper() {
            return responseClass.proper(fuzzCase.expect());
        }
    }

    private final Suite suite;
    private final AtomicReference<ServerProcess> server = new AtomicReference<>();
    private final List<String> deaths = new ArrayList<>();
    private final List<String> stalls = new ArrayList<>();
    private double longestWaitS;
    private int healthFailures;
    private int checks;

    FuzzPhase(Suite suite) {
        this.suite = suite;
    }

    PhaseResult run() throws IOException, InterruptedException {
        SuiteOptions o = suite.options();
        long seed = o.integer("seed");
        int count = o.integer("fuzz-requests");
        List<FuzzCase> cases = FuzzGenerator.generate(seed, count);
        server.set(start());
        String setup = "Server: `" + server.get().options() + "` (the defaults of `bin/server` otherwise). " + count
                + " cases generated from seed " + seed + ", " + o.integer("fuzz-concurrency") + " in flight, a health check and a "
                + "normal 2-token chat request after every " + o.integer("fuzz-batch") + " (and after each heavy case: megabyte bodies and "
                + "the issue's hostile requests, sent one at a time); complete requests wait up to "
                + o.integer("request-timeout") + " s for their response, unfinished ones (slowloris, truncated bodies) "
                + o.integer("socket-wait") + " s for the server to end them.";
        List<Outcome> outcomes = new ArrayList<>();
        try {
            List<FuzzCase> waiting = cases.stream().filter(c -> c.send().hold()).toList();
            List<FuzzCase> light = cases.stream().filter(c -> !c.send().hold() && !c.heavy()).toList();
            List<FuzzCase> heavy = cases.stream().filter(FuzzCase::heavy).toList();
            int batch = Math.max(1, o.integer("fuzz-batch"));
            long start = System.nanoTime();
            Duration timeout = Duration.ofSeconds(o.integer("request-timeout"));
            for (int at = 0; at < light.size(); at += batch) {
                List<FuzzCase> slice = light.subList(at, Math.min(light.size(), at + batch));
                outcomes.addAll(send(slice, o.integer("fuzz-concurrency"), timeout));
                check(slice);
                if (at / batch % 8 == 0) {
                    Suite.progress(NAME, outcomes.size() + "/" + cases.size() + " sent, " + deaths.size() + " engine death(s), "
                            + Math.round((System.nanoTime() - start) / 1e9) + " s");
                }
            }
            Suite.progress(NAME, heavy.size() + " heavy requests, one at a time");
            for (FuzzCase c : heavy) {
                outcomes.addAll(send(List.of(c), 1, timeout));
                check(List.of(c));
            }
            if (!waiting.isEmpty()) {
                Suite.progress(NAME, waiting.size() + " unfinished requests at once, waiting up to " + o.integer("socket-wait") + " s");
                outcomes.addAll(send(waiting, waiting.size(), Duration.ofSeconds(o.integer("socket-wait"))));
                check(waiting);
            }
            outcomes.sort((a, b) -> Integer.compare(a.fuzzCase().id(), b.fuzzCase().id()));
            Suite.progress(NAME, "lock-out probe");
            LockoutProbe.Result probe = new LockoutProbe(server.get(), Duration.ofSeconds(o.integer("probe-timeout"))).run();
            check(List.of());
            return report(setup, cases, outcomes, probe);
        } finally {
            server.get().close();
        }
    }

    private ServerProcess start() throws IOException, InterruptedException {
        return suite.fuzzLauncher().start(NAME + (deaths.isEmpty() ? "" : "-restart" + deaths.size()), suite.threadArgs());
    }

    private List<Outcome> send(List<FuzzCase> cases, int concurrency, Duration deadline) throws InterruptedException {
        Semaphore slots = new Semaphore(Math.max(1, concurrency));
        List<Future<Outcome>> futures = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (FuzzCase c : cases) {
                slots.acquire();
                futures.add(pool.submit(() -> {
                    try {
                        RawExchange.Result result = RawExchange.exchange(server.get().address(), c.request().get(), c.send(), deadline);
                        return new Outcome(c, result, ResponseClass.of(result));
                    } finally {
                        slots.release();
                    }
                }));
            }
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (Future<Outcome> f : futures) {
            try {
                outcomes.add(f.get());
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("a fuzz request failed in the client", e.getCause());
            }
        }
        return outcomes;
    }

    /**
     * Health and a normal request after a batch. A server that is alive and healthy but slow to
     * answer (still busy with what the batch left running) gets up to five minutes; one that
     * exited, or fails the normal request all that time, is an engine death: it is restarted.
     */
    private void check(List<FuzzCase> batch) throws IOException, InterruptedException {
        checks++;
        ServerProcess s = server.get();
        int health = s.http().status("/health");
        if (health != 200) {
            healthFailures++;
        }
        String ids = batch.isEmpty() ? "the lock-out probe"
                : batch.size() == 1 ? "case " + batch.getFirst().id() : "cases " + batch.getFirst().id() + "-" + batch.getLast().id();
        long start = System.nanoTime();
        String problem = s.alive() ? s.http().normalRequestProblem(Duration.ofSeconds(60)) : "the server process exited";
        while (problem != null && s.alive() && System.nanoTime() - start < Duration.ofMinutes(5).toNanos()) {
            Thread.sleep(5000);
            problem = s.alive() ? s.http().normalRequestProblem(Duration.ofSeconds(60)) : "the server process exited";
        }
        double waited = (System.nanoTime() - start) / 1e9;
        longestWaitS = Math.max(longestWaitS, waited);
        if (problem == null) {
            if (waited > 10) {
                stalls.add(String.format("after %s: the normal request took %.0f s", ids, waited));
            }
            return;
        }
        String death = "after " + ids + ": " + problem + " (/health " + health + "; log " + s.log().getFileName() + ")";
        deaths.add(death);
        Suite.progress(NAME, "ENGINE DEATH " + death + "; restarting the server");
        s.close();
        server.set(start());
    }

    private PhaseResult report(String setup, List<FuzzCase> cases, List<Outcome> outcomes, LockoutProbe.Result probe) {
        Map<ResponseClass, Integer> byClass = new EnumMap<>(ResponseClass.class);
        Map<Category, Map<ResponseClass, Integer>> byCategory = new EnumMap<>(Category.class);
        int improper = 0;
        int acceptedHostile = 0;
        long largest2xx = 0;
        String largest2xxCase = "";
        List<Outcome> bad = new ArrayList<>();
        for (Outcome out : outcomes) {
            byClass.merge(out.responseClass(), 1, Integer::sum);
            byCategory.computeIfAbsent(out.fuzzCase().category(), k -> new EnumMap<>(ResponseClass.class))
                    .merge(out.responseClass(), 1, Integer::sum);
            if (!out.proper()) {
                improper++;
                bad.add(out);
                if (out.responseClass() == ResponseClass.OK_2XX) {
                    acceptedHostile++;
                }
            }
            if (out.responseClass() == ResponseClass.OK_2XX && out.result().bodyBytes() > largest2xx) {
                largest2xx = out.result().bodyBytes();
                largest2xxCase = out.fuzzCase().summary();
            }
        }
        int fiveXx = byClass.getOrDefault(ResponseClass.ERROR_5XX, 0);
        int n = outcomes.size();
        List<Criterion> criteria = new ArrayList<>();
        criteria.add(Criterion.check("0 engine deaths", deaths.isEmpty(), deaths.size() + " in " + checks + " checks"));
        criteria.add(Criterion.check("0 5xx for malformed input", fiveXx == 0, fiveXx + " of " + n));
        criteria.add(Criterion.check("/health 200 after every batch", healthFailures == 0, healthFailures + " of " + checks + " checks not 200"));
        criteria.add(Criterion.info("longest wait for a normal request after a batch", String.format("%.1f s", longestWaitS)));
        criteria.add(Criterion.check("every hostile request answered by an OpenAI-shaped 4xx (or an allowed 2xx)", improper == 0,
                (n - improper) + " of " + n + " proper; " + improper + " not"));
        criteria.add(Criterion.check("a 4-token probe completes while two n=128 streams of 2000 tokens run", probe.ok(), probe.summary()));

        StringBuilder md = new StringBuilder();
        md.append("Responses by class (a proper answer is a 4xx in OpenAI's exact error shape, a 2xx where the request may be valid, "
                + "or, for an unfinished request, the server ending it):\n\n| class | count |\n|---|---:|\n");
        for (ResponseClass c : ResponseClass.values()) {
            md.append("| ").append(c.label()).append(" | ").append(byClass.getOrDefault(c, 0)).append(" |\n");
        }
        md.append("| **total** | ").append(n).append(" |\n\n");
        md.append("2xx to a request that must be refused: ").append(acceptedHostile).append(". Largest 2xx body: ")
                .append(largest2xx).append(" bytes (").append(ReportWriter.code(largest2xxCase, 100)).append(").\n\n");
        md.append("By category (columns: 2xx / 4xx OpenAI / 4xx wrong shape / 4xx oversized / 5xx / closed / broken / no response; "
                + "then cases that were not proper):\n\n| category | cases | 2xx | 4xx | 4xx shape | 4xx big | 5xx | closed | broken | none | not proper |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Category category : Category.values()) {
            Map<ResponseClass, Integer> m = byCategory.getOrDefault(category, Map.of());
            long total = outcomes.stream().filter(x -> x.fuzzCase().category() == category).count();
            long notProper = bad.stream().filter(x -> x.fuzzCase().category() == category).count();
            md.append("| ").append(category.description()).append(" | ").append(total);
            for (ResponseClass c : List.of(ResponseClass.OK_2XX, ResponseClass.ERROR_4XX_OPENAI, ResponseClass.ERROR_4XX_WRONG_SHAPE,
                    ResponseClass.ERROR_4XX_OVERSIZED, ResponseClass.ERROR_5XX, ResponseClass.CLOSED, ResponseClass.BROKEN,
                    ResponseClass.NO_RESPONSE)) {
                md.append(" | ").append(m.getOrDefault(c, 0));
            }
            md.append(" | ").append(notProper).append(" |\n");
        }
        md.append('\n');
        if (!deaths.isEmpty()) {
            md.append("Engine deaths (the server was restarted each time):\n\n");
            deaths.forEach(d -> md.append("- ").append(d).append('\n'));
            md.append('\n');
        }
        if (!stalls.isEmpty()) {
            md.append("Checks where a normal 2-token request took over 10 s (the server busy with what a case left running):\n\n");
            stalls.forEach(d -> md.append("- ").append(d).append('\n'));
            md.append('\n');
        }
        md.append("Lock-out scenario: ").append(probe.summary()).append("\n\n");
        md.append("Slowest answered requests:\n\n| # | request | got | time (ms) | response bytes |\n|---:|---|---|---:|---:|\n");
        outcomes.stream().filter(x -> x.result().ending() == RawExchange.Ending.RESPONSE)
                .sorted((a, b) -> Double.compare(b.result().millis(), a.result().millis())).limit(8)
                .forEach(x -> md.append("| ").append(x.fuzzCase().id()).append(" | ").append(ReportWriter.code(x.fuzzCase().summary(), 110))
                        .append(" | HTTP ").append(x.result().status()).append(" | ").append(Math.round(x.result().millis()))
                        .append(" | ").append(x.result().bodyBytes()).append(" |\n"));
        md.append('\n');
        if (!bad.isEmpty()) {
            md.append("Cases that were not answered properly (first ").append(Math.min(LISTED, bad.size())).append(" of ")
                    .append(bad.size()).append("; all of them in `").append(suite.logDir().resolve("fuzz-improper.tsv"))
                    .append("`):\n\n| # | request | expected | got | time (ms) | response |\n|---:|---|---|---|---:|---|\n");
            for (Outcome out : bad.subList(0, Math.min(LISTED, bad.size()))) {
                md.append("| ").append(out.fuzzCase().id()).append(" | ").append(ReportWriter.code(out.fuzzCase().summary(), 110))
                        .append(" | ").append(expectLabel(out.fuzzCase().expect())).append(" | ").append(describe(out.result()))
                        .append(" | ").append(Math.round(out.result().millis())).append(" | ")
                        .append(ReportWriter.code(bodyPreview(out.result()), 120)).append(" |\n");
            }
        }
        StringBuilder tsv = new StringBuilder("id\tcategory\texpected\tclass\tstatus\tms\tbody_bytes\tsummary\tresponse\n");
        for (Outcome out : outcomes) {
            tsv.append(out.fuzzCase().id()).append('\t').append(out.fuzzCase().category()).append('\t').append(out.fuzzCase().expect())
                    .append('\t').append(out.responseClass()).append('\t').append(out.result().status()).append('\t')
                    .append(Math.round(out.result().millis())).append('\t').append(out.result().bodyBytes()).append('\t')
                    .append(tab(out.fuzzCase().summary())).append('\t').append(tab(bodyPreview(out.result()))).append('\n');
        }
        suite.writeRaw("fuzz-all.tsv", tsv.toString());
        suite.writeRaw("fuzz-improper.tsv", tsv.toString().lines()
                .filter(line -> line.startsWith("id\t") || bad.stream().anyMatch(b -> line.startsWith(b.fuzzCase().id() + "\t")))
                .reduce("", (a, b) -> a + b + "\n"));
        return new PhaseResult(NAME, "Fuzz: malformed and hostile requests", setup, criteria, md.toString());
    }

    private static String expectLabel(Expect expect) {
        return switch (expect) {
            case REJECT -> "4xx";
            case ACCEPT_OR_REJECT -> "2xx or 4xx";
            case CUT_OFF, UNREADABLE -> "4xx or close";
        };
    }

    static String describe(RawExchange.Result r) {
        return switch (r.ending()) {
            case RESPONSE -> "HTTP " + r.status() + " (" + ResponseClass.of(r).label() + ")";
            case CLOSED -> "closed, no response";
            case TIMEOUT -> r.status() < 0 ? "no response, still open" : "HTTP " + r.status() + ", body unfinished";
            case BROKEN_RESPONSE -> "broken response" + (r.status() > 0 ? " (HTTP " + r.status() + ")" : "") + ": " + r.note();
            case CONNECT_FAILED -> "connection refused";
        };
    }

    private static String bodyPreview(RawExchange.Result r) {
        String body = new String(r.body(), 0, Math.min(r.body().length, 300), java.nio.charset.StandardCharsets.UTF_8);
        return body.isEmpty() ? r.note() : body;
    }

    private static String tab(String text) {
        String s = text.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}
