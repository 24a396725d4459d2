package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.engine.Engine;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;
import dev.sluice.testing.TestDevice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real {@link SluiceServer} on an ephemeral loopback port serving the tiny random-weight Qwen2
 * model (F16, ChatML template, the real Qwen2 tokenizer), with small limits, plus an HTTP/1.1
 * client aimed at it. One per test class: start it in {@code @BeforeAll}, close it in
 * {@code @AfterAll}.
 */
public final class TestServer implements AutoCloseable {

    /** The id clients pass as {@code model}. */
    public static final String MODEL = "tiny-qwen2";
    public static final long MODEL_SEED = 42;
    /** Small enough to test context errors cheaply, large enough for every test's generation. */
    public static final int MAX_MODEL_LEN = 1024;
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private final SluiceServer server;
    private final HttpClient http;
    private final String apiKey;

    private TestServer(SluiceServer server, String apiKey) {
        this.server = server;
        this.apiKey = apiKey;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** The tiny model's GGUF, generated into Sluice's cache on first use. */
    public static Path modelPath() {
        return TestModelGenerator.ensure(Preset.TINY_QWEN2, WeightType.F16, MODEL_SEED);
    }

    /**
     * The test configuration: port 0, one compute thread (ggml's spinning workers crawl on a busy
     * shared machine), an 8 MiB KV pool (32768 tokens of the tiny model), a 1024-token context,
     * then {@code extraArgs} (CLI flags, which win).
     */
    public static ServerConfig config(String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("--port", "0", "--model", modelPath().toString(),
                "--model-name", MODEL, "--device", TestDevice.serverDevice(), "--threads", "1", "--kv-cache-memory", "8MiB",
                "--max-model-len", Integer.toString(MAX_MODEL_LEN), "--max-request-bytes", "65536",
                "--data-dir", freshDataDir().toString())); // never the user's: a test server resumes nobody's batches
        args.addAll(Arrays.asList(extraArgs));
        return ServerConfig.load(args.toArray(String[]::new), Map.of());
    }

    /** An empty data dir (Files and Batch API state) of its own for one test server. */
    public static Path freshDataDir() {
        try {
            return java.nio.file.Files.createTempDirectory("sluice-data-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a server with {@link #config} and waits until the model is loaded. */
    public static TestServer start(String... extraArgs) {
        return startModels(config(extraArgs));
    }

    /**
     * Starts a server with the models of {@code config} ({@code --model} or {@code --models}), each
     * engine loaded as {@link Main} loads it (so do the admin API's), and waits until all are loaded.
     */
    public static TestServer startModels(ServerConfig config) {
        SluiceServer server = SluiceServer.start(config, Main.models(config), spec -> Engine.load(Main.engineOptions(config, spec)));
        TestServer test = new TestServer(server, config.apiKeys().isEmpty() ? null : config.apiKeys().getFirst());
        try {
            if (!server.awaitLoaded(Duration.ofMinutes(3))) {
                server.close();
                fail("the models did not load: " + server.registry().all());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return test;
    }

    /** Starts a server whose engine comes from {@code loader}; waits for it when {@code await}. */
    public static TestServer startWith(ServerConfig config, Supplier<Engine> loader, boolean await) {
        SluiceServer server = SluiceServer.start(config, Main.models(config), spec -> loader.get());
        TestServer test = new TestServer(server, config.apiKeys().isEmpty() ? null : config.apiKeys().getFirst());
        if (await) {
            try {
                if (!server.awaitLoaded(Duration.ofMinutes(2))) {
                    server.close();
                    fail("the model did not load: " + server.registry().all().getFirst().failure());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return test;
    }

    public SluiceServer server() {
        return server;
    }

    /** The (first) model version it serves. */
    public ModelVersion version() {
        return server.registry().all().getFirst();
    }

    public int port() {
        return server.port();
    }

    public HttpClient http() {
        return http;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    /** {@code http://127.0.0.1:PORT/v1}, for SDK clients. */
    public String baseUrl() {
        return "http://127.0.0.1:" + port() + "/v1";
    }

    /** A request builder for {@code path}, with the server's first API key when it has any. */
    public HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofMinutes(2));
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b;
    }

    public HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<String> get(String path) {
        return send(request(path).GET().build());
    }

    /** POSTs {@code body} as {@code application/json}. */
    public HttpResponse<String> post(String path, String body) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    public HttpResponse<String> post(String path, Object body) {
        return post(path, json(body));
    }

    /** A 200 response's JSON body; fails with the body otherwise. */
    public JsonNode postOk(String path, Object body) {
        HttpResponse<String> response = post(path, body);
        assertEquals(200, response.statusCode(), response::body);
        return parse(response.body());
    }

    public static String json(Object body) {
        if (body instanceof String s) {
            return s;
        }
        try {
            return MAPPER.writeValueAsString(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static JsonNode parse(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    /** A chat body with one user message; {@code more} are extra key/value pairs. */
    public static Map<String, Object> chat(String user, Object... more) {
        Map<String, Object> body = new HashMap<>();
        body.put("model", MODEL);
        body.put("messages", List.of(Map.of("role", "user", "content", user)));
        return with(body, more);
    }

    /** A completions body; {@code prompt} is a string or a list of token ids. */
    public static Map<String, Object> completion(Object prompt, Object... more) {
        Map<String, Object> body = new HashMap<>();
        body.put("model", MODEL);
        body.put("prompt", prompt);
        return with(body, more);
    }

    private static Map<String, Object> with(Map<String, Object> body, Object... more) {
        assertEquals(0, more.length % 2, "key/value pairs");
        for (int i = 0; i < more.length; i += 2) {
            body.put((String) more[i], more[i + 1]);
        }
        return body;
    }

    /**
     * Asserts the OpenAI error shape: exactly {@code {"error": {"message", "type", "param",
     * "code"}}}, a non-empty message with no stack trace, and returns the inner object.
     */
    public static JsonNode assertError(HttpResponse<String> response, int status) {
        assertEquals(status, response.statusCode(), response::body);
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                () -> "content type of " + response.body());
        JsonNode body = parse(response.body());
        assertEquals(List.of("error"), fieldNames(body), response::body);
        JsonNode error = body.get("error");
        assertEquals(List.of("message", "type", "param", "code"), fieldNames(error), response::body);
        assertTrue(error.get("message").isTextual() && !error.get("message").textValue().isBlank(), response::body);
        assertTrue(error.get("type").isTextual(), response::body);
        assertTrue(error.get("param").isNull() || error.get("param").isTextual(), response::body);
        assertTrue(error.get("code").isNull() || error.get("code").isTextual(), response::body);
        String message = error.get("message").textValue();
        assertTrue(!message.contains("\tat ") && !message.contains("Exception") && !message.contains(".java:"),
                () -> "looks like a stack trace: " + message);
        return error;
    }

    public static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** The current {@code /metrics}. */
    public PrometheusText metrics() {
        HttpResponse<String> response = get("/metrics");
        assertEquals(200, response.statusCode(), response::body);
        return PrometheusText.parse(response.body());
    }

    /**
     * Polls {@code /metrics} until the engine is idle: no running or waiting request and no KV
     * block referenced. Fails after {@code timeout}.
     */
    public void awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        PrometheusText m;
        do {
            m = metrics();
            if (m.value("sluice:num_requests_running") == 0 && m.value("sluice:num_requests_waiting") == 0
                    && m.value("sluice:kv_cache_blocks_used") == 0) {
                return;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        fail("the engine did not return to idle within " + timeout + ": running " + m.value("sluice:num_requests_running")
                + ", waiting " + m.value("sluice:num_requests_waiting") + ", KV blocks used "
                + m.value("sluice:kv_cache_blocks_used"));
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdown(Duration.ofSeconds(5));
    }
}
