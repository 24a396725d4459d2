package dev.sluice.bench.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A KV pool a few times the longest request, under many concurrent requests: every request must
 * still complete (by preemption), none may fail for lack of memory.
 */
final class SmallKvPhase {

    static final String NAME = "small-kv";
    static final int PROMPT_TOKENS = 64;
    static final int MAX_TOKENS = 128;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Suite suite;

    SmallKvPhase(Suite suite) {
        this.suite = suite;
    }

    /** The pool: {@code factor} times the longest request, rounded up to whole 16-token blocks. */
    static int kvTokens(int factor) {
        int tokens = factor * (PROMPT_TOKENS + MAX_TOKENS);
        return (tokens + 15) / 16 * 16;
    }

    PhaseResult run() throws IOException, InterruptedException {
        SuiteOptions o = suite.options();
        int count = o.integer("small-kv-requests");
        int concurrency = o.integer("small-kv-concurrency");
        int kvTokens = kvTokens(o.integer("small-kv-factor"));
        List<String> args = new ArrayList<>(suite.threadArgs());
        args.addAll(List.of("--kv-cache-tokens", Integer.toString(kvTokens)));
        try (ServerProcess server = suite.launcher().start(NAME, args)) {
            SplittableRandom r = new SplittableRandom(o.integer("seed"));
            List<String> bodies = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                StringBuilder prompt = new StringBuilder("[");
                for (int t = 0; t < PROMPT_TOKENS; t++) {
                    prompt.append(t == 0 ? "" : ",").append(r.nextInt(10, 500));
                }
                int tokens = r.nextInt(MAX_TOKENS / 2, MAX_TOKENS + 1);
                boolean stream = i % 2 == 0;
                bodies.add("{\"prompt\":" + prompt + "],\"max_tokens\":" + tokens + ",\"ignore_eos\":true"
                        + (stream ? ",\"stream\":true" : "") + "}");
            }
            Map<Integer, String> failures = new ConcurrentHashMap<>();
            AtomicInteger next = new AtomicInteger();
            long start = System.nanoTime();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int w = 0; w < concurrency; w++) {
                    pool.submit(() -> {
                        int i;
                        while ((i = next.getAndIncrement()) < count) {
                            String problem = send(server, bodies.get(i), i % 2 == 0, i);
                            if (problem != null) {
                                failures.put(i, problem);
                            }
                        }
                    });
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double preemptions = server.metric("sluice:num_preemptions_total").orElse(Double.NaN);
            OptionalDouble kv = server.idleKvBlocksUsed(Duration.ofSeconds(60));
            String alive = server.alive() ? server.http().normalRequestProblem(Duration.ofSeconds(120)) : "the server exited";
            List<Criterion> criteria = new ArrayList<>();
            criteria.add(Criterion.check("every request completes with a KV pool far too small (by preemption)", failures.isEmpty(),
                    (count - failures.size()) + " of " + count + " completed"));
            criteria.add(Criterion.info("preemptions", SoakPhase.fmt(preemptions) + (preemptions > 0 ? "" : " (the pool was not exhausted?)")));
            criteria.add(Criterion.check("0 KV blocks in use once idle", kv.isPresent() && kv.getAsDouble() == 0,
                    kv.isPresent() ? Math.round(kv.getAsDouble()) + " blocks" : "metric missing"));
            criteria.add(Criterion.check("the engine still serves afterwards", alive == null, alive == null ? "a normal request succeeded" : alive));
            StringBuilder md = new StringBuilder();
            md.append(String.format("KV pool of %d tokens (%d x the longest request of %d prompt + %d generated tokens); %d completions "
                            + "requests (64 random token ids in, %d-%d tokens out with ignore_eos, every other one streaming) at "
                            + "concurrency %d, which would need %d tokens of KV at once. Took %.0f s; %s preemptions.%n%n",
                    kvTokens, o.integer("small-kv-factor"), PROMPT_TOKENS, MAX_TOKENS, count, MAX_TOKENS / 2, MAX_TOKENS, concurrency,
                    concurrency * (PROMPT_TOKENS + MAX_TOKENS), seconds, SoakPhase.fmt(preemptions)));
            if (!failures.isEmpty()) {
                Map<String, Integer> kinds = new TreeMap<>();
                failures.values().forEach(f -> kinds.merge(SoakPhase.errorKind(f), 1, Integer::sum));
                md.append("Failures:\n\n| error | count |\n|---|---:|\n");
                kinds.forEach((k, v) -> md.append("| ").append(ReportWriter.cell(k)).append(" | ").append(v).append(" |\n"));
            }
            return new PhaseResult(NAME, "KV pool far too small for the load", "Server: `" + server.options() + "`.", criteria,
                    md.toString());
        }
    }

    /** Null when the request completed with a finish reason of stop or length. */
    private static String send(ServerProcess server, String body, boolean stream, int i) {
        if (stream) {
            StreamClient.Result r = StreamClient.stream(server.address(), Bodies.COMPLETIONS, body, StreamClient.Plan.full(),
                    Duration.ofSeconds(900), "reliability-small-kv-" + i);
            if (!r.complete()) {
                return r.error() != null ? r.error() : "incomplete stream";
            }
            return r.finishReasons().stream().allMatch(f -> f.equals("stop") || f.equals("length")) ? null
                    : "finish_reason " + r.finishReasons();
        }
        HttpCheck.Reply reply = server.http().post(Bodies.COMPLETIONS, body, Duration.ofSeconds(900));
        if (reply.status() != 200) {
            return reply.status() < 0 ? "no response: " + reply.note() : "HTTP " + reply.status() + ": " + HttpWire.abbreviate(reply.body(), 160);
        }
        try {
            JsonNode finish = JSON.readTree(reply.body()).path("choices").path(0).path("finish_reason");
            return finish.asText().equals("stop") || finish.asText().equals("length") ? null : "finish_reason " + finish;
        } catch (IOException e) {
            return "200 with a body that is not JSON";
        }
    }
}
