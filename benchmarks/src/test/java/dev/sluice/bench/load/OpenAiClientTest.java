package dev.sluice.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.bench.load.FakeOpenAiServer.Behavior;
import dev.sluice.bench.load.FakeOpenAiServer.Failure;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpenAiClientTest {

    private static final Generation COMPLETIONS = new Generation(Endpoint.COMPLETIONS, FakeOpenAiServer.MODEL, 0);

    private static PlannedRequest request(int promptTokens, int maxTokens) {
        int[] ids = new int[promptTokens];
        Arrays.setAll(ids, i -> 1000 + i);
        return new PlannedRequest(7, new Prompt.Tokens(new int[0], ids), maxTokens);
    }

    private static RequestSample send(FakeOpenAiServer server, Generation generation, PlannedRequest request)
            throws InterruptedException {
        OpenAiClient client = new OpenAiClient(server.baseUrl(), null, Duration.ofSeconds(10));
        return client.stream(generation, request, System.nanoTime(), new LongAdder());
    }

    @Test
    void measuresTtftItlTpotAndE2eAgainstTheServersDelays() throws Exception {
        long firstMs = 150;
        long tokenMs = 20;
        int perChunk = 2;
        int tokens = 20;
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.timed(firstMs, tokenMs, perChunk))) {
            LongAdder live = new LongAdder();
            OpenAiClient client = new OpenAiClient(server.baseUrl(), null, Duration.ofSeconds(10));
            RequestSample s = client.stream(COMPLETIONS, request(33, tokens), System.nanoTime(), live);

            assertTrue(s.success(), s.error());
            double chunkGapMs = tokenMs * perChunk;
            double[] itl = s.itlMs();
            double meanItl = Arrays.stream(itl).average().orElseThrow();
            double expectedTpot = (tokens / perChunk - 1) * chunkGapMs / (tokens - 1);
            assertAll(
                    () -> assertEquals(7, s.index()),
                    () -> assertEquals(200, s.httpStatus()),
                    () -> assertEquals(33, s.promptTokens()),
                    () -> assertEquals(tokens, s.outputTokens()),
                    () -> assertTrue(s.usageReported()),
                    () -> assertEquals(tokens / perChunk, s.chunks()),
                    () -> assertEquals(tokens, live.sum(), "live count corrected by usage"),
                    () -> assertEquals(tokens / perChunk - 1, itl.length, "one gap per chunk after the first"),
                    () -> assertTrue(s.ttftMs() >= firstMs, "TTFT " + s.ttftMs()),
                    () -> assertTrue(s.ttftMs() < firstMs * 4, "TTFT " + s.ttftMs()),
                    () -> assertTrue(meanItl / chunkGapMs > 0.9 && meanItl / chunkGapMs < 2.5, "mean ITL " + meanItl),
                    () -> assertTrue(s.tpotMs() / expectedTpot > 0.9 && s.tpotMs() / expectedTpot < 2.5, "TPOT " + s.tpotMs()),
                    () -> assertEquals((s.e2eMs() - s.ttftMs()) / (tokens - 1), s.tpotMs(), 1e-9),
                    () -> assertTrue(s.e2eMs() >= firstMs + (tokens / perChunk - 1) * chunkGapMs, "E2E " + s.e2eMs()),
                    () -> assertTrue(s.e2eMs() >= s.ttftMs() + Arrays.stream(itl).sum() - 1e-6));
        }
    }

    @Test
    void sendsAStreamingRequestWithExactTokenIdsUsageAndIgnoreEos() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.fast())) {
            OpenAiClient client = new OpenAiClient(server.baseUrl(), "sk-test", Duration.ofSeconds(10));
            Prompt.Tokens prompt = new Prompt.Tokens(new int[] {5, 6}, new int[] {7, 8, 9});
            RequestSample s = client.stream(new Generation(Endpoint.COMPLETIONS, "m", 0.5),
                    new PlannedRequest(0, prompt, 3), System.nanoTime(), new LongAdder());

            assertTrue(s.success(), s.error());
            JsonNode body = server.bodies.getFirst();
            assertAll(
                    () -> assertEquals("m", body.path("model").asText()),
                    () -> assertEquals("[5,6,7,8,9]", body.path("prompt").toString()),
                    () -> assertEquals(3, body.path("max_tokens").asInt()),
                    () -> assertEquals(0.5, body.path("temperature").asDouble()),
                    () -> assertTrue(body.path("stream").asBoolean()),
                    () -> assertTrue(body.path("stream_options").path("include_usage").asBoolean()),
                    () -> assertTrue(body.path("ignore_eos").asBoolean()),
                    () -> assertEquals("Bearer sk-test", server.authorizations.getFirst()),
                    () -> assertEquals(5, s.promptTokens()));
        }
    }

    @Test
    void readsMultiTokenChunksWithCrlfAndComments() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.timed(0, 1, 3).messy())) {
            RequestSample s = send(server, COMPLETIONS, request(10, 10));
            assertTrue(s.success(), s.error());
            assertEquals(10, s.outputTokens());
            assertEquals(4, s.chunks()); // 3 + 3 + 3 + 1
            assertEquals(3, s.itlMs().length);
        }
    }

    @Test
    void countsChunksAsTokensWhenTheServerSendsNoUsage() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.timed(0, 0, 2).withoutUsage())) {
            RequestSample s = send(server, COMPLETIONS, request(12, 8));
            assertTrue(s.success(), s.error());
            assertFalse(s.usageReported());
            assertEquals(4, s.outputTokens());
            assertEquals(12, s.promptTokens(), "the planned prompt length");
        }
    }

    @Test
    void streamsChatWithTextMessagesIgnoringTheRoleOnlyDelta() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.timed(100, 0, 1))) {
            Prompt.Text prompt = new Prompt.Text("be brief", "tell me about rivers", 6);
            RequestSample s = send(server, new Generation(Endpoint.CHAT, FakeOpenAiServer.MODEL, 0),
                    new PlannedRequest(0, prompt, 5));

            assertTrue(s.success(), s.error());
            assertEquals(5, s.chunks());
            assertTrue(s.ttftMs() >= 100, "the empty role delta is not the first token: " + s.ttftMs());
            JsonNode messages = server.bodies.getFirst().path("messages");
            assertEquals("system", messages.path(0).path("role").asText());
            assertEquals("tell me about rivers", messages.path(1).path("content").asText());
        }
    }

    @Test
    void reportsHttpErrorsWithTheirStatusAndMessage() throws Exception {
        List<Failure> failures = List.of(Failure.BAD_REQUEST, Failure.RATE_LIMITED, Failure.SERVER_ERROR);
        try (FakeOpenAiServer server = new FakeOpenAiServer(n -> Behavior.fast().failing(failures.get(n)))) {
            RequestSample bad = send(server, COMPLETIONS, request(4, 4));
            RequestSample limited = send(server, COMPLETIONS, request(4, 4));
            RequestSample crashed = send(server, COMPLETIONS, request(4, 4));
            assertAll(
                    () -> assertFalse(bad.success()),
                    () -> assertEquals(400, bad.httpStatus()),
                    () -> assertEquals("HTTP 400: prompt is too long", bad.error()),
                    () -> assertEquals("HTTP 429: too many requests", limited.error()),
                    () -> assertEquals("HTTP 500: engine crashed", crashed.error()),
                    () -> assertEquals(0, crashed.outputTokens()));
        }
    }

    @Test
    void reportsBrokenTruncatedAndErroredStreams() throws Exception {
        List<Failure> failures = List.of(Failure.BREAK_STREAM, Failure.TRUNCATED, Failure.ERROR_EVENT, Failure.INVALID_JSON,
                Failure.ERROR_FIELD);
        try (FakeOpenAiServer server = new FakeOpenAiServer(n -> Behavior.fast().failing(failures.get(n)))) {
            RequestSample broken = send(server, COMPLETIONS, request(4, 10));
            RequestSample truncated = send(server, COMPLETIONS, request(4, 10));
            RequestSample errored = send(server, COMPLETIONS, request(4, 10));
            RequestSample garbled = send(server, COMPLETIONS, request(4, 10));
            RequestSample llamaError = send(server, COMPLETIONS, request(4, 10));
            assertAll(
                    () -> assertFalse(broken.success()),
                    () -> assertTrue(broken.error().startsWith("I/O error") || broken.error().startsWith("stream ended early"),
                            broken.error()),
                    () -> assertEquals("stream ended early, after 2 content chunk(s) and no [DONE]", truncated.error()),
                    () -> assertEquals(200, truncated.httpStatus()),
                    () -> assertEquals("error in stream: out of KV cache", errored.error()),
                    () -> assertTrue(garbled.error().startsWith("invalid JSON in stream: "), garbled.error()),
                    () -> assertEquals(2, garbled.chunks(), "what came before the bad chunk was measured"),
                    () -> assertEquals("error in stream: context shift disabled", llamaError.error()));
        }
    }

    @Test
    void reportsARefusedConnectionAsAFailedSample() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort(); // closed again: nothing listens there now
        }
        OpenAiClient client = new OpenAiClient(URI.create("http://127.0.0.1:" + port), null, Duration.ofSeconds(5));
        RequestSample s = client.stream(COMPLETIONS, request(4, 4), System.nanoTime(), new LongAdder());
        assertFalse(s.success());
        assertEquals(0, s.httpStatus());
        assertTrue(s.error().startsWith("I/O error: ConnectException"), s.error());
    }

    @Test
    void listsModelsInOrder() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.fast())) {
            OpenAiClient client = new OpenAiClient(server.baseUrl(), null, Duration.ofSeconds(5));
            assertEquals(List.of(FakeOpenAiServer.MODEL, "other"), client.modelIds());
        }
    }

    @Test
    void sendsTextPromptsWithTheSystemPrefixFirst() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.fast())) {
            RequestSample s = send(server, COMPLETIONS, new PlannedRequest(0, new Prompt.Text("system words", "user words", 4), 2));
            assertTrue(s.success(), s.error());
            assertEquals("system words\n\nuser words", server.bodies.getFirst().path("prompt").asText());
            assertEquals(1, s.itlMs().length);
        }
    }
}
