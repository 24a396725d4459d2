package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.engine.Engine;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.sluice.api.TestServer.assertError;
import static dev.sluice.api.TestServer.chat;
import static dev.sluice.api.TestServer.completion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Liveness and readiness as an orchestrator sees them, and a configuration the engine cannot serve. */
class EngineHealthTest {

    @Test
    void liveAndReadyWhileServing() throws Exception {
        try (TestServer server = TestServer.start()) {
            HttpResponse<String> live = server.get("/health/live");
            assertEquals(200, live.statusCode());
            assertEquals("live", TestServer.parse(live.body()).get("status").textValue());
            HttpResponse<String> ready = server.get("/health/ready");
            assertEquals(200, ready.statusCode());
            assertEquals("ready", TestServer.parse(ready.body()).get("status").textValue());
            assertEquals(ready.body(), server.get("/health").body(), "/health is readiness");
        }
    }

    @Test
    void anEngineThatKeepsFailingIsReportedDeadAndTheServerToldToExit() throws Exception {
        try (TestServer server = TestServer.start()) {
            CountDownLatch told = new CountDownLatch(1);
            server.server().onEngineFailure(told::countDown);
            // The model's native runner goes away under the idle engine: every step now fails.
            server.version().serviceOrNull().engine().runner().close();
            for (int i = 0; i < 3; i++) {
                JsonNode error = assertError(server.post("/v1/completions", completion("x", "max_tokens", 2)), 500);
                assertEquals("server_error", error.get("type").textValue());
            }
            assertTrue(told.await(30, TimeUnit.SECONDS), "the server's engine-failure listener ran");
            HttpResponse<String> live = server.get("/health/live");
            assertEquals(503, live.statusCode());
            JsonNode body = TestServer.parse(live.body());
            assertEquals("dead", body.get("status").textValue());
            assertTrue(body.get("message").textValue().contains("in a row"), body.toString());
            HttpResponse<String> ready = server.get("/health");
            assertEquals(503, ready.statusCode());
            assertEquals("failed", TestServer.parse(ready.body()).get("status").textValue());
            JsonNode refused = assertError(server.post("/v1/chat/completions", chat("hi", "max_tokens", 2)), 503);
            assertTrue(refused.get("message").textValue().contains("not available"), refused.toString());
            assertEquals(3, server.metrics().value("sluice:engine_step_failures_total"));
        }
    }

    @Test
    void aTrainedContextLargerThanTheKvCacheIsFittedToIt() throws Exception {
        // The tiny model is trained for 4096 tokens; this cache holds 1024.
        try (TestServer server = TestServer.start("--max-model-len", "0", "--kv-cache-tokens", "1024")) {
            JsonNode model = TestServer.parse(server.get("/v1/models/" + TestServer.MODEL).body());
            assertEquals(1024, model.get("max_model_len").intValue());
            // Without max_tokens a chat gets the rest of the fitted context, which the cache can hold.
            JsonNode chat = server.postOk("/v1/chat/completions", chat("hi", "temperature", 0));
            assertEquals(1, chat.get("choices").size());
        }
    }

    @Test
    void anExplicitMaxModelLenTheKvCacheCannotHoldFailsAtStartup() throws Exception {
        ServerConfig config = TestServer.config("--max-model-len", "2048", "--kv-cache-tokens", "1024");
        TestServer server = TestServer.startWith(config, () -> Engine.load(Main.engineOptions(config)), false);
        try {
            assertFalse(server.server().awaitLoaded(Duration.ofMinutes(2)));
            String failure = server.version().failure();
            assertTrue(failure.contains("--max-model-len 2048") && failure.contains("1024 tokens"), failure);
            assertEquals(503, server.get("/health/live").statusCode());
        } finally {
            server.close();
        }
    }
}
