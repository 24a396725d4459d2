package dev.sluice.bench.load;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.LongAdder;

/**
 * Talks to any OpenAI-compatible server over HTTP/1.1 and measures streamed generations. Every
 * failure, from a refused connection to a malformed chunk, ends up in the returned sample rather
 * than in an exception: a benchmark counts errors, it does not stop at the first.
 */
final class OpenAiClient implements AutoCloseable {

    private static final int MAX_ERROR_BODY = 64 * 1024;
    private static final int MAX_ERROR_TEXT = 300;

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http;
    private final URI baseUrl;
    private final String apiKey;
    private final Duration timeout;
    private final String sessionHeader;

    /** How many leading prefix tokens (or words) make a request's session key. */
    static final int SESSION_KEY_TOKENS = 64;

    /**
     * @param baseUrl the server, without a trailing slash; paths such as {@code /v1/models} are appended
     * @param apiKey  sent as a bearer token; null for none
     * @param timeout how long to wait for a response's headers
     */
    OpenAiClient(URI baseUrl, String apiKey, Duration timeout) {
        this(baseUrl, apiKey, timeout, null);
    }

    /** As above; {@code sessionHeader} names a header to send a session key in ({@link #sessionKey}), null for none. */
    OpenAiClient(URI baseUrl, String apiKey, Duration timeout, String sessionHeader) {
        this.sessionHeader = sessionHeader;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .build();
        this.baseUrl = baseUrl;
        this.apiKey = apiKey;
        this.timeout = timeout;
    }

    /** Waits for requests in flight, then releases the connections. */
    @Override
    public void close() {
        http.close();
    }

    /** The ids {@code GET /v1/models} lists, in its order. */
    List<String> modelIds() throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request("/v1/models").GET().build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("GET /v1/models: " + describeError(response.statusCode(), response.body()));
        }
        List<String> ids = new ArrayList<>();
        for (JsonNode model : json.readTree(response.body()).path("data")) {
            ids.add(model.path("id").asText());
        }
        return ids;
    }

    /**
     * Sends one streaming request and measures it. {@code originNanos} is the {@link System#nanoTime()}
     * the sample's start is measured from; {@code liveTokens} counts generated tokens as they
     * arrive, for the progress line.
     */
    RequestSample stream(Generation generation, PlannedRequest planned, long originNanos, LongAdder liveTokens)
            throws InterruptedException {
        HttpRequest.Builder builder = request(generation.endpoint().path())
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body(generation, planned)));
        if (sessionHeader != null) {
            builder.header(sessionHeader, sessionKey(planned.prompt()));
        }
        HttpRequest request = builder.build();
        Measurement m = new Measurement(planned, System.nanoTime(), originNanos);
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            m.status = response.statusCode();
            try (InputStream body = response.body()) {
                if (m.status != 200) {
                    return m.failed(describeError(m.status, readError(body)));
                }
                return readStream(generation.endpoint(), new SseReader(body), m, liveTokens);
            }
        } catch (HttpTimeoutException e) {
            return m.failed("timeout: no response within " + timeout.toSeconds() + " s");
        } catch (JsonProcessingException e) {
            return m.failed("invalid JSON in stream: " + firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            return m.failed("I/O error: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + firstLine(e.getMessage())));
        }
    }

    private RequestSample readStream(Endpoint endpoint, SseReader events, Measurement m, LongAdder liveTokens)
            throws IOException {
        SseReader.Event event;
        while ((event = events.next()) != null) {
            long now = System.nanoTime();
            String data = event.data();
            if (event.error()) {
                return m.failed("error in stream: " + errorText(data));
            }
            if (data.equals("[DONE]")) {
                m.done(now);
                continue; // read on to the end so the connection goes back to the pool
            }
            if (m.endNanos != 0) {
                continue;
            }
            JsonNode chunk = json.readTree(data);
            if (chunk.hasNonNull("error")) {
                return m.failed("error in stream: " + errorMessage(chunk));
            }
            JsonNode choice = chunk.path("choices").path(0);
            if (!choice.isMissingNode()) {
                if (!endpoint.content(choice).isEmpty()) {
                    m.content(now);
                    liveTokens.increment();
                }
                if (choice.hasNonNull("finish_reason")) {
                    m.finished = true;
                }
            }
            JsonNode usage = chunk.get("usage");
            if (usage != null && usage.isObject()) {
                m.usage(usage.path("prompt_tokens").asInt(-1), usage.path("completion_tokens").asInt(-1));
            }
        }
        RequestSample sample = m.complete(System.nanoTime());
        if (sample.success()) {
            liveTokens.add(sample.outputTokens() - sample.chunks()); // chunks that carried several tokens
        }
        return sample;
    }

    private byte[] body(Generation generation, PlannedRequest planned) {
        ObjectNode body = json.createObjectNode();
        body.put("model", generation.model());
        switch (generation.endpoint()) {
            case COMPLETIONS -> {
                switch (planned.prompt()) {
                    case Prompt.Tokens tokens -> {
                        ArrayNode ids = body.putArray("prompt");
                        for (int id : tokens.all()) {
                            ids.add(id);
                        }
                    }
                    case Prompt.Text text -> body.put("prompt",
                            text.system().isEmpty() ? text.user() : text.system() + "\n\n" + text.user());
                }
            }
            case CHAT -> {
                if (!(planned.prompt() instanceof Prompt.Text text)) {
                    throw new IllegalArgumentException("a chat request needs a text prompt");
                }
                ArrayNode messages = body.putArray("messages");
                if (!text.system().isEmpty()) {
                    messages.addObject().put("role", "system").put("content", text.system());
                }
                messages.addObject().put("role", "user").put("content", text.user());
            }
        }
        body.put("max_tokens", planned.maxTokens());
        body.put("temperature", generation.temperature());
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        if (generation.responseFormat() != null) {
            // the grammar allows end of generation only where the answer is complete
            body.set("response_format", generation.responseFormat());
        } else {
            body.put("ignore_eos", true); // random-weight models hit EOS anywhere; lengths must be the planned ones
        }
        try {
            return json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a request body", e);
        }
    }

    /**
     * A request's session: a hash of its prompt prefix's first {@link #SESSION_KEY_TOKENS} tokens
     * (words for text prompts), the same for every turn of a multi-turn conversation, whose history
     * is its prefix; "none" without a prefix.
     */
    static String sessionKey(Prompt prompt) {
        int hash = switch (prompt) {
            case Prompt.Tokens t -> t.systemIds().length == 0 ? 0
                    : java.util.Arrays.hashCode(java.util.Arrays.copyOf(t.systemIds(), Math.min(SESSION_KEY_TOKENS, t.systemIds().length)));
            case Prompt.Text t -> t.system().isEmpty() ? 0 : String.join(" ", java.util.Arrays.stream(t.system().split(" "))
                    .limit(SESSION_KEY_TOKENS).toList()).hashCode();
        };
        return hash == 0 ? "none" : "s" + Integer.toHexString(hash);
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(timeout);
        if (apiKey != null) {
            builder.header("Authorization", "Bearer " + apiKey);
        }
        return builder;
    }

    private static String readError(InputStream body) throws IOException {
        return new String(body.readNBytes(MAX_ERROR_BODY), StandardCharsets.UTF_8);
    }

    /** "HTTP 429: message", the message taken from an OpenAI error body where there is one. */
    private String describeError(int status, String body) {
        String message = errorText(body);
        return "HTTP " + status + (message.isBlank() ? "" : ": " + message);
    }

    /** The message of an error body or event: its JSON's message where it has one, else its first line. */
    private String errorText(String body) {
        try {
            JsonNode node = json.readTree(body);
            return firstLine(node != null && node.isObject() ? errorMessage(node) : body);
        } catch (JsonProcessingException e) {
            return firstLine(body);
        }
    }

    /** The message of {@code {"error": {"message": ...}}}, {@code {"error": "..."}} or {@code {"message": ...}}. */
    private static String errorMessage(JsonNode node) {
        JsonNode error = node.path("error");
        if (error.isTextual()) {
            return error.asText();
        }
        if (error.hasNonNull("message")) {
            return error.get("message").asText();
        }
        if (node.hasNonNull("message")) {
            return node.get("message").asText();
        }
        return node.toString();
    }

    private static String firstLine(String text) {
        String line = text.strip().lines().findFirst().orElse("");
        return line.length() <= MAX_ERROR_TEXT ? line : line.substring(0, MAX_ERROR_TEXT) + "...";
    }

    /** The timestamps and counts of one request as its stream arrives. */
    private static final class Measurement {

        private final PlannedRequest planned;
        private final long sentNanos;
        private final long originNanos;
        private final List<Double> gapsMs = new ArrayList<>();
        private int status;
        private long firstContentNanos;
        private long lastContentNanos;
        private long endNanos;
        private int chunks;
        private boolean finished;
        private int usagePromptTokens = -1;
        private int usageCompletionTokens = -1;

        Measurement(PlannedRequest planned, long sentNanos, long originNanos) {
            this.planned = planned;
            this.sentNanos = sentNanos;
            this.originNanos = originNanos;
        }

        void content(long now) {
            if (chunks == 0) {
                firstContentNanos = now;
            } else {
                gapsMs.add(millis(now - lastContentNanos));
            }
            lastContentNanos = now;
            chunks++;
        }

        void usage(int promptTokens, int completionTokens) {
            usagePromptTokens = promptTokens;
            usageCompletionTokens = completionTokens;
        }

        void done(long now) {
            if (endNanos == 0) {
                endNanos = now;
            }
        }

        /** The stream ended: a success if it carried text and ended as a stream should. */
        RequestSample complete(long now) {
            if (endNanos == 0 && !finished) {
                return failed("stream ended early, after " + chunks + " content chunk(s) and no [DONE]");
            }
            if (chunks == 0) {
                return failed("stream carried no generated text");
            }
            done(now);
            boolean usageReported = usageCompletionTokens >= 0;
            int outputTokens = usageReported ? usageCompletionTokens : chunks;
            int promptTokens = usagePromptTokens >= 0 ? usagePromptTokens : planned.prompt().plannedTokens();
            double ttftMs = millis(firstContentNanos - sentNanos);
            double e2eMs = millis(endNanos - sentNanos);
            double tpotMs = outputTokens > 1 ? (e2eMs - ttftMs) / (outputTokens - 1) : 0;
            return sample(true, null, promptTokens, outputTokens, usageReported, ttftMs, tpotMs, e2eMs);
        }

        RequestSample failed(String error) {
            double ttftMs = chunks > 0 ? millis(firstContentNanos - sentNanos) : 0;
            return sample(false, error, planned.prompt().plannedTokens(), chunks, false, ttftMs, 0,
                    millis(System.nanoTime() - sentNanos));
        }

        private RequestSample sample(boolean success, String error, int promptTokens, int outputTokens,
                                     boolean usageReported, double ttftMs, double tpotMs, double e2eMs) {
            double[] itlMs = gapsMs.stream().mapToDouble(Double::doubleValue).toArray();
            return new RequestSample(planned.index(), millis(sentNanos - originNanos), success, status, error,
                    promptTokens, outputTokens, usageReported, chunks, ttftMs, tpotMs, e2eMs, itlMs);
        }

        private static double millis(long nanos) {
            return nanos / 1e6;
        }
    }
}
