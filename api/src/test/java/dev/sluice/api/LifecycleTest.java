package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.engine.Engine;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.sluice.api.TestServer.assertError;
import static dev.sluice.api.TestServer.chat;
import static dev.sluice.api.TestServer.completion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server's life: loading (503 with the health check saying so), a failed load, admission
 * control (429 with Retry-After when the queue is full) and a graceful shutdown that lets
 * in-flight streams finish while refusing new work. Each test runs its own server.
 */
class LifecycleTest {

    private static SseStream longStream(TestServer server, int maxTokens) {
        return SseStream.open(server.http(), server.request("/v1/chat/completions").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(TestServer.json(chat("Go on and on.", "stream", true,
                        "max_tokens", maxTokens, "ignore_eos", true, "temperature", 0,
                        "stream_options", Map.of("include_usage", true))))).build());
    }

    @Test
    void whileTheModelLoadsTheServerSays503() throws Exception {
        ServerConfig config = TestServer.config();
        CountDownLatch release = new CountDownLatch(1);
        TestServer server = TestServer.startWith(config, () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return Engine.load(Main.engineOptions(config));
        }, false);
        try {
            HttpResponse<String> health = server.get("/health");
            assertEquals(503, health.statusCode());
            assertEquals("loading", TestServer.parse(health.body()).get("status").textValue());

            HttpResponse<String> chat = server.post("/v1/chat/completions", chat("hi"));
            JsonNode error = assertError(chat, 503);
            assertEquals("service_unavailable", error.get("type").textValue());
            assertTrue(error.get("message").textValue().contains("loading"), error.toString());
            assertTrue(chat.headers().firstValue("Retry-After").isPresent());
            assertError(server.post("/v1/completions", completion("hi")), 503);
            assertError(server.post("/tokenize", Map.of("prompt", "hi")), 503);
            // Validation that needs no model still answers; the model list names what will be served.
            assertEquals(200, server.get("/v1/models").statusCode());
            PrometheusText metrics = server.metrics();
            assertEquals(0, metrics.value("sluice:model_ready"));

            release.countDown();
            assertTrue(server.server().awaitLoaded(Duration.ofMinutes(2)));
            assertEquals(200, server.get("/health").statusCode());
            assertEquals(1, server.metrics().value("sluice:model_ready"));
            assertEquals(200, server.post("/v1/chat/completions", chat("hi", "max_tokens", 2)).statusCode());
        } finally {
            release.countDown();
            server.close();
        }
    }

    @Test
    void aFailedLoadIsReported() throws Exception {
        TestServer server = TestServer.startWith(TestServer.config(), () -> {
            throw new IllegalArgumentException("not a GGUF file: broken.gguf");
        }, false);
        try {
            assertFalse(server.server().awaitLoaded(Duration.ofSeconds(30)));
            HttpResponse<String> health = server.get("/health");
            assertEquals(503, health.statusCode());
            JsonNode body = TestServer.parse(health.body());
            assertEquals("failed", body.get("status").textValue());
            assertTrue(body.get("message").textValue().contains("not a GGUF file"));
            JsonNode error = assertError(server.post("/v1/chat/completions", chat("hi")), 503);
            assertTrue(error.get("message").textValue().contains("not a GGUF file"), error.toString());
        } finally {
            server.close();
        }
    }

    @Test
    void aFullQueueAnswers429WithRetryAfter() throws Exception {
        TestServer server = TestServer.start("--max-queued-requests", "2");
        try (SseStream first = longStream(server, 1000); SseStream second = longStream(server, 1000)) {
            // Both are admitted and generating.
            assertTrue(first.next().json().get("choices").get(0).get("delta").has("role"));
            assertTrue(second.next().json().get("choices").get(0).get("delta").has("role"));

            HttpResponse<String> refused = server.post("/v1/chat/completions", chat("one more", "max_tokens", 2));
            JsonNode error = assertError(refused, 429);
            assertEquals("rate_limit_exceeded", error.get("code").textValue());
            assertTrue(error.get("message").textValue().contains("2"), error.toString());
            assertEquals("1", refused.headers().firstValue("Retry-After").orElseThrow());
            assertError(server.post("/v1/completions", completion("x", "max_tokens", 2, "stream", true)), 429);
            // Readiness says so, so a load balancer sends the next request elsewhere; the process is alive.
            HttpResponse<String> ready = server.get("/health");
            assertEquals(503, ready.statusCode());
            assertEquals("saturated", TestServer.parse(ready.body()).get("status").textValue());
            assertEquals(503, server.get("/health/ready").statusCode());
            assertEquals(200, server.get("/health/live").statusCode());
            // Cheap endpoints are not queued.
            assertEquals(200, server.post("/tokenize", Map.of("prompt", "x")).statusCode());
        }
        // Closing the streams cancels them; then there is room again.
        server.awaitIdle(Duration.ofSeconds(30));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (server.get("/health").statusCode() != 200 && System.nanoTime() < deadline) {
            Thread.sleep(20); // the handlers release their admission as they return
        }
        assertEquals(200, server.get("/health").statusCode());
        assertEquals(200, server.post("/v1/chat/completions", chat("now", "max_tokens", 2)).statusCode());
        // Two prompts are two requests: with one stream running, they do not fit.
        try (SseStream running = longStream(server, 1000)) {
            running.next();
            assertError(server.post("/v1/completions", completion(List.of("a", "b"), "max_tokens", 2)), 429);
            assertEquals(200, server.post("/v1/completions", completion(List.of("a"), "max_tokens", 2)).statusCode());
        }
        server.close();
    }

    @Test
    void shutdownDrainsInFlightStreamsAndRefusesNewWork() throws Exception {
        TestServer server = TestServer.start();
        java.net.URI health0 = server.uri("/health");
        int tokens = 400;
        List<SseStream> streams = new ArrayList<>();
        ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor();
        try {
            for (int i = 0; i < 4; i++) {
                SseStream s = longStream(server, tokens);
                assertEquals(200, s.response().statusCode());
                s.next(); // the role chunk: it is running
                streams.add(s);
            }
            List<Future<List<SseStream.Event>>> rest = new ArrayList<>();
            for (SseStream s : streams) {
                rest.add(readers.submit(s::readAll));
            }
            Thread stopper = Thread.ofPlatform().start(() -> {
                try {
                    server.server().shutdown(Duration.ofSeconds(30));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            // Draining: the health check says so, and new work is refused with 503.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            HttpResponse<String> health;
            do {
                health = server.get("/health");
            } while (health.statusCode() == 200 && System.nanoTime() < deadline);
            assertEquals(503, health.statusCode());
            assertEquals("draining", TestServer.parse(health.body()).get("status").textValue());
            JsonNode error = assertError(server.post("/v1/chat/completions", chat("late", "max_tokens", 2)), 503);
            assertTrue(error.get("message").textValue().contains("shutting down"), error.toString());
            assertError(server.post("/v1/completions", completion("late", "stream", true)), 503);

            // The in-flight streams finish normally: all their tokens, the finish reason, usage, [DONE].
            for (Future<List<SseStream.Event>> f : rest) {
                List<SseStream.Event> events = f.get(2, TimeUnit.MINUTES);
                assertTrue(events.getLast().isDone(), "ends with [DONE]");
                JsonNode usage = events.get(events.size() - 2).json().get("usage");
                assertEquals(tokens, usage.get("completion_tokens").intValue());
                JsonNode finish = events.get(events.size() - 3).json().get("choices").get(0);
                assertEquals("length", finish.get("finish_reason").textValue());
            }
            stopper.join(TimeUnit.SECONDS.toMillis(60));
            assertFalse(stopper.isAlive(), "shutdown returned");
            // Stopped: nothing listens any more.
            assertThrows(IOException.class, () -> server.http().send(HttpRequest.newBuilder(health0)
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()));
        } finally {
            readers.shutdownNow();
            streams.forEach(SseStream::close);
            server.close();
        }
    }
}
