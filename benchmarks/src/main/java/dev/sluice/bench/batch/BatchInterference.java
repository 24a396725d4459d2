package dev.sluice.bench.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How much a running batch (the Batch API) slows interactive requests, and how much interactive
 * load slows the batch, on one server, in one run (the machine's noise cancels in the ratios):
 *
 * <ol>
 *   <li>interactive alone: {@code --concurrency} clients send streaming chats, TTFT measured;</li>
 *   <li>a {@code --lines}-line batch starts; its rate alone is measured over {@code --window} s;</li>
 *   <li>the interactive round again while the batch runs, the batch's rate measured meanwhile;</li>
 *   <li>the batch's rate alone again, then it is cancelled, and interactive alone again.</li>
 * </ol>
 *
 * Prints TTFT p50/p99 and the mean time per output token (TPOT) without and with the batch, and
 * the batch's output tokens/s alone and under interactive load, with their ratios.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar dev.sluice.bench.batch.BatchInterference --url http://127.0.0.1:8080</pre>
 */
public final class BatchInterference {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .executor(Executors.newVirtualThreadPerTaskExecutor()).build();
    private final URI base;
    private final String model;
    private final int concurrency;
    private final int requestsPerClient;
    private final int interactiveTokens;
    private final int lines;
    private final int batchTokens;
    private final double windowSeconds;

    private BatchInterference(Map<String, String> o) throws IOException, InterruptedException {
        this.base = URI.create(o.getOrDefault("url", "http://127.0.0.1:8080"));
        this.concurrency = Integer.parseInt(o.getOrDefault("concurrency", "4"));
        this.requestsPerClient = Integer.parseInt(o.getOrDefault("requests-per-client", "8"));
        this.interactiveTokens = Integer.parseInt(o.getOrDefault("interactive-tokens", "32"));
        this.lines = Integer.parseInt(o.getOrDefault("lines", "500"));
        this.batchTokens = Integer.parseInt(o.getOrDefault("batch-tokens", "64"));
        this.windowSeconds = Double.parseDouble(o.getOrDefault("window", "20"));
        this.model = o.containsKey("model") ? o.get("model")
                : JSON.readTree(get("/v1/models")).path("data").get(0).path("id").asText();
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        new BatchInterference(options).run();
    }

    private void run() throws Exception {
        System.out.printf(Locale.ROOT, "model %s; interactive: %d clients x %d streaming chats of %d tokens; batch: %d lines of %d tokens%n",
                model, concurrency, requestsPerClient, interactiveTokens, lines, batchTokens);
        interactive(); // warm-up: graphs, caches
        List<double[]> aloneBefore = interactive();
        String batch = createBatch();
        awaitCompleted(batch, 1);
        double rateBefore = batchRate(batch, () -> sleep(windowSeconds), 0);
        List<double[]> withBatch = new ArrayList<>();
        double rateDuring = batchRate(batch, () -> withBatch.addAll(interactive()), concurrency * requestsPerClient);
        double rateAfter = batchRate(batch, () -> sleep(windowSeconds), 0);
        int completed = status(batch).path("request_counts").path("completed").asInt();
        boolean stillRunning = status(batch).path("status").asText().equals("in_progress");
        post("/v1/batches/" + batch + "/cancel", "{}");
        awaitEnded(batch);
        List<double[]> aloneAfter = interactive();
        List<double[]> alone = new ArrayList<>(aloneBefore);
        alone.addAll(aloneAfter);
        System.out.printf(Locale.ROOT, "interactive alone, before the batch: p50 %.0f ms, p99 %.0f ms; after it: p50 %.0f ms, p99 %.0f ms%n",
                pct(aloneBefore, 0, 50), pct(aloneBefore, 0, 99), pct(aloneAfter, 0, 50), pct(aloneAfter, 0, 99));
        double rateAlone = (rateBefore + rateAfter) / 2;
        System.out.printf(Locale.ROOT, "batch lines completed by the end: %d of %d (still running throughout: %s)%n",
                completed, lines, stillRunning);
        System.out.printf(Locale.ROOT, "| | TTFT p50 (ms) | TTFT p99 (ms) | TPOT p50 (ms) | requests |%n|---|---:|---:|---:|---:|%n");
        System.out.printf(Locale.ROOT, "| interactive alone | %.0f | %.0f | %.1f | %d |%n", pct(alone, 0, 50), pct(alone, 0, 99),
                pct(alone, 1, 50), alone.size());
        System.out.printf(Locale.ROOT, "| interactive with the batch | %.0f | %.0f | %.1f | %d |%n", pct(withBatch, 0, 50),
                pct(withBatch, 0, 99), pct(withBatch, 1, 50), withBatch.size());
        System.out.printf(Locale.ROOT, "TTFT p99 ratio (with / without batch): %.2f; p50 ratio: %.2f; TPOT p50 ratio: %.2f%n",
                pct(withBatch, 0, 99) / pct(alone, 0, 99), pct(withBatch, 0, 50) / pct(alone, 0, 50),
                pct(withBatch, 1, 50) / pct(alone, 1, 50));
        System.out.printf(Locale.ROOT, "batch output tok/s alone: %.1f (before %.1f, after %.1f); with interactive load: %.1f; ratio %.2f%n",
                rateAlone, rateBefore, rateAfter, rateDuring, rateDuring / rateAlone);
    }

    /** {@code concurrency} clients, each sending {@code requestsPerClient} streaming chats; their {TTFT, TPOT} in ms. */
    private List<double[]> interactive() {
        List<double[]> ttfts = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger counter = new AtomicInteger();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> clients = new ArrayList<>();
            for (int c = 0; c < concurrency; c++) {
                clients.add(pool.submit(() -> {
                    for (int r = 0; r < requestsPerClient; r++) {
                        ttfts.add(ttft("Interactive question " + counter.incrementAndGet() + ": tell me something."));
                    }
                    return null;
                }));
            }
            for (Future<?> f : clients) {
                f.get();
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return ttfts;
    }

    /**
     * One streaming chat: {milliseconds from sending to the first chunk with content, mean
     * milliseconds between content chunks after it}. A keep-alive connection the server closed
     * while idle (--http-idle-timeout) fails at once with no bytes: that one attempt is retried on
     * a fresh connection.
     */
    private double[] ttft(String prompt) throws IOException, InterruptedException {
        try {
            return ttftOnce(prompt);
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("received no bytes")) {
                throw e;
            }
            return ttftOnce(prompt);
        }
    }

    private double[] ttftOnce(String prompt) throws IOException, InterruptedException {
        String body = JSON.writeValueAsString(Map.of("model", model, "stream", true, "max_tokens", interactiveTokens,
                "ignore_eos", true, "temperature", 0, "messages", List.of(Map.of("role", "user", "content", prompt))));
        long start = System.nanoTime();
        HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        double first = -1;
        double last = -1;
        int chunks = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            if (response.statusCode() != 200) {
                throw new IOException("status " + response.statusCode());
            }
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("data: {")) {
                    JsonNode chunk = JSON.readTree(line.substring(6));
                    if (!chunk.at("/choices/0/delta/content").asText("").isEmpty()) {
                        last = (System.nanoTime() - start) / 1e6;
                        first = first < 0 ? last : first;
                        chunks++;
                    }
                }
            }
        }
        return new double[] {first, chunks > 1 ? (last - first) / (chunks - 1) : Double.NaN};
    }

    private String createBatch() throws IOException, InterruptedException {
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            input.append(JSON.writeValueAsString(Map.of("custom_id", "line-" + i, "method", "POST", "url", "/v1/chat/completions",
                    "body", Map.of("model", model, "max_tokens", batchTokens, "ignore_eos", true, "temperature", 0,
                            "messages", List.of(Map.of("role", "system", "content", "You summarise documents."),
                                    Map.of("role", "user", "content", "Document " + i + ": a short text to summarise.")))))).append('\n');
        }
        String boundary = "interference" + System.nanoTime();
        String multipart = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--" + boundary
                + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"batch.jsonl\"\r\n\r\n" + input + "\r\n--" + boundary + "--\r\n";
        HttpResponse<String> file = http.send(HttpRequest.newBuilder(base.resolve("/v1/files"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(multipart)).build(), HttpResponse.BodyHandlers.ofString());
        String fileId = JSON.readTree(file.body()).path("id").asText();
        return JSON.readTree(post("/v1/batches", JSON.writeValueAsString(Map.of("input_file_id", fileId,
                "endpoint", "/v1/chat/completions", "completion_window", "24h")))).path("id").asText();
    }

    /**
     * Output tokens per second the batch generated while {@code during} ran: the server's generated
     * tokens (sluice:generation_tokens_total) less the interactive requests' (each exactly
     * --interactive-tokens, all inside the window). Completed lines would be too coarse: lines in
     * flight advance together and finish in waves.
     */
    private double batchRate(String batch, Runnable during, int interactiveRequests) throws IOException, InterruptedException {
        long start = System.nanoTime();
        double before = generatedTokens();
        during.run();
        double after = generatedTokens();
        return (after - before - (double) interactiveRequests * interactiveTokens) / ((System.nanoTime() - start) / 1e9);
    }

    private double generatedTokens() throws IOException, InterruptedException {
        double sum = 0;
        for (String line : get("/metrics").split("\n")) {
            if (line.startsWith("sluice:generation_tokens_total")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private void awaitCompleted(String batch, int count) throws IOException, InterruptedException {
        while (status(batch).path("request_counts").path("completed").asInt() < count) {
            Thread.sleep(100);
        }
    }

    private void awaitEnded(String batch) throws IOException, InterruptedException {
        while (!List.of("completed", "cancelled", "failed", "expired").contains(status(batch).path("status").asText())) {
            Thread.sleep(100);
        }
    }

    private JsonNode status(String batch) throws IOException, InterruptedException {
        return JSON.readTree(get("/v1/batches/" + batch));
    }

    private String get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private String post(String path, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static double pct(List<double[]> samples, int field, double p) {
        List<Double> sorted = new ArrayList<>();
        for (double[] sample : samples) {
            if (!Double.isNaN(sample[field])) {
                sorted.add(sample[field]);
            }
        }
        Collections.sort(sorted);
        int index = (int) Math.ceil(p / 100 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    private static void sleep(double seconds) {
        try {
            Thread.sleep((long) (seconds * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
