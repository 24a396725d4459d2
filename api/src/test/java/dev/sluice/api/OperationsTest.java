package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.UnauthorizedException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.sluice.api.TestServer.assertError;
import static dev.sluice.api.TestServer.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What operators rely on: API keys, CORS, request ids, cancellation of abandoned streams (the KV
 * pool returns to idle) and many concurrent streaming clients. The server has two API keys and
 * two allowed CORS origins; {@link TestServer#request} sends the first key.
 */
class OperationsTest {

    private static final String KEY = "secret-1";
    private static final String OTHER_KEY = "secret-2";
    private static final String ORIGIN = "https://app.example";
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start("--api-key", KEY + ", " + OTHER_KEY, "--cors-allowed-origins", ORIGIN + ",https://other.example");
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    private static HttpRequest.Builder unauthenticated(String path) {
        return HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofMinutes(1));
    }

    // ---- API keys ----------------------------------------------------------------------------

    @Test
    void apiKeys() {
        JsonNode error = assertError(server.send(unauthenticated("/v1/models").build()), 401);
        assertEquals("invalid_api_key", error.get("code").textValue());
        assertTrue(error.get("message").textValue().contains("didn't provide an API key"), error.toString());

        error = assertError(server.send(unauthenticated("/v1/models").header("Authorization", "Bearer nope").build()), 401);
        assertEquals("invalid_api_key", error.get("code").textValue());
        assertTrue(error.get("message").textValue().contains("Incorrect API key"), error.toString());
        assertError(server.send(unauthenticated("/v1/models").header("Authorization", "Basic " + KEY).build()), 401);
        assertError(server.send(unauthenticated("/v1/models").header("Authorization", "Bearer ").build()), 401);
        assertError(server.send(unauthenticated("/v1/models").header("Authorization", "Bearer " + KEY + "x").build()), 401);

        assertEquals(200, server.send(unauthenticated("/v1/models").header("Authorization", "Bearer " + KEY).build()).statusCode());
        assertEquals(200, server.send(unauthenticated("/v1/models").header("Authorization", "Bearer " + OTHER_KEY).build()).statusCode());
        assertEquals(200, server.send(unauthenticated("/v1/models").header("Authorization", "bearer " + KEY).build()).statusCode());

        // Every endpoint but /health needs the key; generation is refused before any work.
        assertEquals(200, server.send(unauthenticated("/health").build()).statusCode());
        assertError(server.send(unauthenticated("/metrics").build()), 401);
        assertError(server.send(unauthenticated("/tokenize").POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"a\"}")).build()), 401);
        assertError(server.send(unauthenticated("/v1/chat/completions").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(TestServer.json(chat("hi")))).build()), 401);
        assertError(server.send(unauthenticated("/v1/nothing").build()), 401);
        assertEquals(200, server.post("/v1/chat/completions", chat("hi", "max_tokens", 2)).statusCode());
    }

    @Test
    void sdkSeesUnauthorized() {
        OpenAIClient wrong = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("wrong").maxRetries(0).build();
        OpenAIClient right = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey(OTHER_KEY).maxRetries(0).build();
        try {
            UnauthorizedException e = assertThrows(UnauthorizedException.class, () -> wrong.models().list());
            assertEquals(401, e.statusCode());
            assertEquals("invalid_api_key", e.code().orElseThrow());
            assertEquals(TestServer.MODEL, right.models().list().data().getFirst().id());
        } finally {
            wrong.close();
            right.close();
        }
    }

    // ---- CORS --------------------------------------------------------------------------------

    @Test
    void corsPreflight() {
        HttpResponse<String> allowed = server.send(unauthenticated("/v1/chat/completions")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", ORIGIN)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization, content-type").build());
        assertEquals(204, allowed.statusCode(), "a preflight needs no API key");
        assertEquals(ORIGIN, allowed.headers().firstValue("Access-Control-Allow-Origin").orElseThrow());
        assertTrue(allowed.headers().firstValue("Access-Control-Allow-Methods").orElseThrow().contains("POST"));
        assertEquals("authorization, content-type", allowed.headers().firstValue("Access-Control-Allow-Headers").orElseThrow());
        assertTrue(allowed.headers().allValues("Vary").stream().anyMatch(v -> v.contains("Origin")));
        assertTrue(allowed.headers().firstValue("Access-Control-Max-Age").isPresent());

        HttpResponse<String> denied = server.send(unauthenticated("/v1/chat/completions")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://evil.example")
                .header("Access-Control-Request-Method", "POST").build());
        assertEquals(403, denied.statusCode());
        assertTrue(denied.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
        assertTrue(denied.headers().firstValue("Access-Control-Allow-Methods").isEmpty());
    }

    @Test
    void corsOnActualRequests() {
        HttpResponse<String> allowed = server.send(server.request("/v1/models").header("Origin", "https://other.example").build());
        assertEquals(200, allowed.statusCode());
        assertEquals("https://other.example", allowed.headers().firstValue("Access-Control-Allow-Origin").orElseThrow());
        assertTrue(allowed.headers().firstValue("Access-Control-Expose-Headers").orElseThrow().contains("X-Request-Id"));

        HttpResponse<String> unauthorized = server.send(unauthenticated("/v1/models").header("Origin", ORIGIN).build());
        assertEquals(401, unauthorized.statusCode());
        assertEquals(ORIGIN, unauthorized.headers().firstValue("Access-Control-Allow-Origin").orElseThrow(),
                "a browser app can read the 401's body");

        HttpResponse<String> other = server.send(server.request("/v1/models").header("Origin", "https://evil.example").build());
        assertTrue(other.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
        HttpResponse<String> none = server.send(server.request("/v1/models").build());
        assertTrue(none.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
    }

    // ---- request ids ---------------------------------------------------------------------------

    @Test
    void requestIdsAreEchoedOrMade() {
        HttpResponse<String> echoed = server.send(server.request("/v1/models").header("X-Request-Id", "trace-42").build());
        assertEquals("trace-42", echoed.headers().firstValue("X-Request-Id").orElseThrow());
        HttpResponse<String> made = server.send(server.request("/v1/models").build());
        String id = made.headers().firstValue("X-Request-Id").orElseThrow();
        assertTrue(id.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), id);
        assertNotEquals(id, server.send(server.request("/v1/models").build()).headers().firstValue("X-Request-Id").orElseThrow());
        HttpResponse<String> tooLong = server.send(server.request("/v1/models").header("X-Request-Id", "x".repeat(200)).build());
        assertNotEquals("x".repeat(200), tooLong.headers().firstValue("X-Request-Id").orElseThrow());
        // On errors and streams too.
        assertEquals("trace-401", server.send(unauthenticated("/v1/models").header("X-Request-Id", "trace-401").build())
                .headers().firstValue("X-Request-Id").orElseThrow());
        try (SseStream s = SseStream.open(server.http(), server.request("/v1/completions").header("X-Request-Id", "trace-sse")
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        TestServer.json(TestServer.completion("a", "stream", true, "max_tokens", 2)))).build())) {
            assertEquals("trace-sse", s.response().headers().firstValue("X-Request-Id").orElseThrow());
            s.readAll();
        }
    }

    // ---- cancellation ----------------------------------------------------------------------------

    /** Sends a streaming request on a raw socket, reads {@code events} SSE events, then closes the socket. */
    private static void abandonStream(int events) throws Exception {
        byte[] body = TestServer.json(chat("Tell me everything.", "stream", true, "max_tokens", 1000, "ignore_eos", true))
                .getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + KEY
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder seen = new StringBuilder();
            byte[] buffer = new byte[4096];
            while (seen.toString().split("data: ", -1).length - 1 < events) {
                int n = in.read(buffer);
                assertTrue(n > 0, "the stream ended early: " + seen);
                seen.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
            }
            assertTrue(seen.toString().startsWith("HTTP/1.1 200"), seen::toString);
            PrometheusText m = server.metrics();
            assertEquals(1, m.value("sluice:num_requests_running"), "the request is generating");
            assertTrue(m.value("sluice:kv_cache_blocks_used") > 0);
            // Steps have run: their forward passes and their sampling are timed apart.
            assertTrue(m.value("sluice:engine_forward_seconds_total") > 0);
            assertTrue(m.value("sluice:engine_sampling_seconds_total") > 0);
            // and the KV rows they attended to, and how many of those a gather copied
            assertTrue(m.value("sluice:kv_rows_attended_total") > 0);
            assertTrue(m.value("sluice:kv_rows_gathered_total") >= 0);
            assertTrue(m.value("sluice:engine_sampling_seconds_total") < m.value("sluice:iteration_step_seconds_sum"));
        }
    }

    @Test
    void aDisconnectedStreamIsCancelledAndItsKvBlocksFreed() throws Exception {
        server.awaitIdle(Duration.ofSeconds(30));
        PrometheusText before = server.metrics();
        abandonStream(3);
        server.awaitIdle(Duration.ofSeconds(30));
        PrometheusText after = server.metrics();
        assertEquals(before.value("sluice:request_success_total", "finished_reason", "abort") + 1,
                after.value("sluice:request_success_total", "finished_reason", "abort"));
        double generated = after.value("sluice:generation_tokens_total") - before.value("sluice:generation_tokens_total");
        assertTrue(generated < 1000, "cancelled early, after " + generated + " tokens");
        // The server is healthy afterwards.
        assertEquals(200, server.post("/v1/completions", TestServer.completion("ok", "max_tokens", 2)).statusCode());
    }

    // ---- concurrency ---------------------------------------------------------------------------

    @Test
    void sixtyFourConcurrentStreamsAllComplete() throws Exception {
        int clients = 64;
        int tokens = 12;
        List<Future<String>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < clients; i++) {
                int seed = i;
                results.add(pool.submit(() -> oneStream(seed, tokens)));
            }
            pool.shutdown();
            // Scrapes during the load must be consistent too (each is parsed strictly).
            int scrapes = 0;
            while (!pool.isTerminated()) {
                PrometheusText m = server.metrics();
                assertTrue(m.value("sluice:num_requests_running") + m.value("sluice:num_requests_waiting") <= clients);
                scrapes++;
            }
            assertTrue(pool.awaitTermination(3, TimeUnit.MINUTES));
            assertTrue(scrapes > 0);
        }
        List<String> texts = new ArrayList<>();
        for (Future<String> f : results) {
            texts.add(f.get());
        }
        assertTrue(texts.stream().distinct().count() > clients / 2, "different seeds, different texts");
        server.awaitIdle(Duration.ofSeconds(30));
    }

    /** One streaming chat; checks its chunk sequence and returns its text. */
    private static String oneStream(int seed, int tokens) {
        try (SseStream s = SseStream.open(server.http(), server.request("/v1/chat/completions")
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(TestServer.json(
                        chat("Client " + seed, "stream", true, "max_tokens", tokens, "ignore_eos", true, "seed", seed,
                                "stream_options", java.util.Map.of("include_usage", true))))).build())) {
            assertEquals(200, s.response().statusCode());
            List<SseStream.Event> events = s.readAll();
            assertTrue(events.getLast().isDone());
            List<JsonNode> chunks = events.subList(0, events.size() - 1).stream().map(SseStream.Event::json).toList();
            assertEquals("assistant", chunks.getFirst().get("choices").get(0).get("delta").get("role").textValue());
            JsonNode usage = chunks.getLast().get("usage");
            assertEquals(tokens, usage.get("completion_tokens").intValue());
            assertEquals(0, chunks.getLast().get("choices").size());
            JsonNode finish = chunks.get(chunks.size() - 2).get("choices").get(0);
            assertEquals("length", finish.get("finish_reason").textValue());
            StringBuilder text = new StringBuilder();
            String id = chunks.getFirst().get("id").textValue();
            for (JsonNode chunk : chunks.subList(0, chunks.size() - 1)) {
                assertEquals(id, chunk.get("id").textValue());
                JsonNode choice = chunk.get("choices").get(0);
                if (chunk != chunks.get(chunks.size() - 2)) {
                    assertTrue(choice.get("finish_reason").isNull());
                }
                JsonNode content = choice.get("delta").get("content");
                if (content != null) {
                    text.append(content.textValue());
                }
            }
            assertFalse(text.isEmpty());
            return text.toString();
        }
    }
}
