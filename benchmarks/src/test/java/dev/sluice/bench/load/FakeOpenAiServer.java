package dev.sluice.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * A minimal OpenAI-compatible server for tests: streams {@code /v1/completions} and
 * {@code /v1/chat/completions} with the delays, chunking and failures its {@link Behavior} says,
 * lists one model, and records what it saw (request bodies, arrival times, peak concurrency).
 */
final class FakeOpenAiServer implements AutoCloseable {

    static final String MODEL = "fake-model";

    static {
        // Stream chunks are small writes: without TCP_NODELAY, Nagle's algorithm meets delayed
        // ACKs and holds some back for ~40 ms, which would show up as the client's ITL.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    enum Failure { NONE, BAD_REQUEST, RATE_LIMITED, SERVER_ERROR, BREAK_STREAM, ERROR_EVENT, ERROR_FIELD, TRUNCATED, INVALID_JSON }

    /**
     * How to answer one request: the first chunk after {@code firstTokenDelayMs}, then one chunk of
     * {@code tokensPerChunk} tokens every {@code tokensPerChunk * tokenDelayMs}.
     */
    record Behavior(long firstTokenDelayMs, long tokenDelayMs, int tokensPerChunk, boolean crlf, boolean comments,
                    boolean usage, Failure failure) {

        static Behavior fast() {
            return new Behavior(0, 0, 1, false, false, true, Failure.NONE);
        }

        static Behavior timed(long firstTokenDelayMs, long tokenDelayMs, int tokensPerChunk) {
            return new Behavior(firstTokenDelayMs, tokenDelayMs, tokensPerChunk, false, false, true, Failure.NONE);
        }

        Behavior failing(Failure failure) {
            return new Behavior(firstTokenDelayMs, tokenDelayMs, tokensPerChunk, crlf, comments, usage, failure);
        }

        Behavior messy() {
            return new Behavior(firstTokenDelayMs, tokenDelayMs, tokensPerChunk, true, true, usage, failure);
        }

        Behavior withoutUsage() {
            return new Behavior(firstTokenDelayMs, tokenDelayMs, tokensPerChunk, crlf, comments, false, failure);
        }
    }

    private final ObjectMapper json = new ObjectMapper();
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final IntFunction<Behavior> behaviors;
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger maxActive = new AtomicInteger();
    final List<Long> arrivalNanos = new CopyOnWriteArrayList<>();
    final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
    final List<String> authorizations = new CopyOnWriteArrayList<>();

    /** {@code behaviors} maps the arrival number of a generation request (0, 1, ...) to how to answer it. */
    FakeOpenAiServer(IntFunction<Behavior> behaviors) throws IOException {
        this.behaviors = behaviors;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
        server.setExecutor(executor);
        server.createContext("/v1/models", this::models);
        server.createContext("/v1/completions", exchange -> generate(exchange, false));
        server.createContext("/v1/chat/completions", exchange -> generate(exchange, true));
        server.start();
    }

    FakeOpenAiServer(Behavior behavior) throws IOException {
        this(n -> behavior);
    }

    URI baseUrl() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    int maxConcurrent() {
        return maxActive.get();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void models(HttpExchange exchange) throws IOException {
        byte[] body = ("{\"object\":\"list\",\"data\":[{\"id\":\"" + MODEL + "\",\"object\":\"model\"},"
                + "{\"id\":\"other\",\"object\":\"model\"}]}").getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private void generate(HttpExchange exchange, boolean chat) throws IOException {
        arrivalNanos.add(System.nanoTime());
        Behavior behavior = behaviors.apply(requests.getAndIncrement());
        maxActive.accumulateAndGet(active.incrementAndGet(), Math::max);
        // A request stops counting as active before its last bytes go out: a client may send its
        // next request as soon as it has read them, and must not be seen overlapping itself.
        Runnable release = new Runnable() {
            private boolean done;

            @Override
            public void run() {
                if (!done) {
                    done = true;
                    active.decrementAndGet();
                }
            }
        };
        try (exchange) {
            JsonNode request = json.readTree(exchange.getRequestBody());
            bodies.add(request);
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            authorizations.add(authorization == null ? "" : authorization);
            switch (behavior.failure()) {
                case BAD_REQUEST -> error(exchange, release, 400,
                        "{\"error\":{\"message\":\"prompt is too long\",\"type\":\"invalid_request_error\",\"code\":400}}");
                case RATE_LIMITED -> error(exchange, release, 429,
                        "{\"error\":{\"message\":\"too many requests\",\"type\":\"rate_limit_error\"}}");
                case SERVER_ERROR -> error(exchange, release, 500, "{\"error\":\"engine crashed\"}");
                default -> stream(exchange, behavior, request, chat, release);
            }
        } finally {
            release.run();
        }
    }

    private static void error(HttpExchange exchange, Runnable release, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        release.run();
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private void stream(HttpExchange exchange, Behavior behavior, JsonNode request, boolean chat, Runnable release)
            throws IOException {
        int maxTokens = request.path("max_tokens").asInt();
        JsonNode prompt = chat ? request.path("messages") : request.path("prompt");
        int promptTokens = prompt.isArray() && !chat ? prompt.size() : wordCount(prompt);
        String eol = behavior.crlf() ? "\r\n" : "\n";
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        if (chat) { // chat streams open with a role-only delta, which carries no text
            event(out, eol, behavior, "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}");
        }
        sleep(behavior.firstTokenDelayMs());
        int sent = 0;
        int chunk = 0;
        while (sent < maxTokens) {
            if (chunk > 0) {
                sleep(behavior.tokenDelayMs() * behavior.tokensPerChunk());
            }
            int tokens = Math.min(behavior.tokensPerChunk(), maxTokens - sent);
            sent += tokens;
            String text = " tok".repeat(tokens);
            String finish = sent == maxTokens ? "\"length\"" : "null";
            String choice = chat
                    ? "{\"index\":0,\"delta\":{\"content\":\"" + text + "\"},\"finish_reason\":" + finish + "}"
                    : "{\"index\":0,\"text\":\"" + text + "\",\"finish_reason\":" + finish + "}";
            event(out, eol, behavior, "{\"id\":\"x\",\"object\":\"chunk\",\"model\":\"" + MODEL + "\",\"choices\":[" + choice + "]}");
            chunk++;
            if (behavior.failure() == Failure.BREAK_STREAM && chunk == 3) {
                throw new IllegalStateException("breaking the stream on purpose"); // the server drops the connection
            }
            if (behavior.failure() == Failure.ERROR_EVENT && chunk == 2) {
                event(out, eol, behavior, "{\"error\":{\"message\":\"out of KV cache\",\"type\":\"server_error\"}}");
                return;
            }
            if (behavior.failure() == Failure.ERROR_FIELD && chunk == 2) { // as llama-server reports errors
                out.write(("error: {\"code\":500,\"message\":\"context shift disabled\",\"type\":\"server_error\"}" + eol + eol)
                        .getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (behavior.failure() == Failure.INVALID_JSON && chunk == 2) {
                event(out, eol, behavior, "{\"choices\": [oops");
            }
            if (behavior.failure() == Failure.TRUNCATED && chunk == 2) {
                return; // the body ends cleanly, but with neither a finish_reason nor [DONE]
            }
        }
        if (behavior.usage()) {
            ObjectNode usage = json.createObjectNode();
            usage.putArray("choices");
            usage.putObject("usage").put("prompt_tokens", promptTokens).put("completion_tokens", maxTokens)
                    .put("total_tokens", promptTokens + maxTokens);
            event(out, eol, behavior, usage.toString());
        }
        release.run();
        event(out, eol, behavior, "[DONE]");
    }

    private static void event(OutputStream out, String eol, Behavior behavior, String data) throws IOException {
        StringBuilder text = new StringBuilder();
        if (behavior.comments()) {
            text.append(": keep-alive").append(eol);
        }
        text.append("data: ").append(data).append(eol).append(eol);
        out.write(text.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static int wordCount(JsonNode prompt) {
        String text = prompt.isArray() ? String.join(" ", prompt.findValuesAsText("content")) : prompt.asText();
        return text.isBlank() ? 0 : text.strip().split("\\s+").length;
    }

    private static void sleep(long millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
