package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static dev.sluice.api.TestServer.assertError;
import static dev.sluice.api.TestServer.chat;
import static dev.sluice.api.TestServer.completion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests built to hurt: each is refused with an OpenAI-shaped 400 before it reaches the engine
 * (or, where OpenAI allows it, served), and the server keeps serving the next request.
 */
class HostileRequestTest {

    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start("--max-request-bytes", "16777216");
    }

    @AfterAll
    static void stop() throws InterruptedException {
        server.close();
    }

    /** The server still answers a small request and reports itself ready and live. */
    private static void assertStillServing() {
        JsonNode ok = server.postOk("/v1/completions", completion("Hello", "max_tokens", 3, "temperature", 0));
        assertEquals(1, ok.get("choices").size());
        assertEquals(200, server.get("/health").statusCode());
        assertEquals(200, server.get("/health/live").statusCode());
    }

    private static List<String> stops(int count, int chars) {
        List<String> stops = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            stops.add(String.valueOf((char) ('a' + i)).repeat(chars));
        }
        return stops;
    }

    @Test
    void hugeStopStringsWithManyChoicesAreRefusedAndTheEngineLives() {
        // 16 x 900 KB stop strings, n = 128: a 14 MB body that used to stop the engine for good.
        HttpResponse<String> response = server.post("/v1/completions",
                completion("Once", "n", 128, "max_tokens", 4, "stop", stops(16, 900_000)));
        JsonNode error = assertError(response, 400);
        assertEquals("stop", error.get("param").textValue());
        assertTrue(error.get("message").textValue().contains("1024"), error.toString());
        // 400 KB each: refused the same way (it used to cost ~3 GB and stall everyone for 8 s).
        assertError(server.post("/v1/completions", completion("Once", "n", 128, "max_tokens", 4,
                "stop", stops(16, 400_000))), 400);
        assertStillServing();
    }

    @Test
    void stopStringsWithinTheLimitsStillWorkForEveryChoice() {
        JsonNode ok = server.postOk("/v1/completions", completion("Once", "n", 4, "max_tokens", 8,
                "stop", stops(16, 1024), "temperature", 0));
        assertEquals(4, ok.get("choices").size());
    }

    @Test
    void tooManyLogitBiasesStopTokensOrMessagesAre400() {
        Map<String, Integer> bias = new HashMap<>();
        IntStream.range(0, 301).forEach(i -> bias.put(Integer.toString(i + 10), 1));
        assertEquals("logit_bias", assertError(server.post("/v1/completions",
                completion("x", "logit_bias", bias)), 400).get("param").textValue());
        bias.remove("10");
        server.postOk("/v1/completions", completion("x", "max_tokens", 2, "logit_bias", bias));

        List<Integer> ids = IntStream.range(0, 1025).boxed().toList();
        assertEquals("stop_token_ids", assertError(server.post("/v1/completions",
                completion("x", "stop_token_ids", ids)), 400).get("param").textValue());

        List<Map<String, String>> messages = new ArrayList<>();
        for (int i = 0; i < 10_001; i++) {
            messages.add(Map.of("role", "user", "content", "x"));
        }
        Map<String, Object> body = chat("x");
        body.put("messages", messages);
        assertEquals("messages", assertError(server.post("/v1/chat/completions", body), 400).get("param").textValue());
        assertStillServing();
    }

    @Test
    void anAnswerLargerThanTheResponseLimitIs400() {
        // n 128, 20 alternatives per token, 200 tokens: a 150-byte request that used to return 29 MB.
        HttpResponse<String> response = server.post("/v1/completions",
                completion("x", "n", 128, "logprobs", 20, "max_tokens", 200));
        JsonNode error = assertError(response, 400);
        assertEquals("response_too_large", error.get("code").textValue());
        assertTrue(error.get("message").textValue().contains("262144"), error.toString());
        // Chat's top_logprobs count the same way.
        assertError(server.post("/v1/chat/completions", chat("x", "n", 128, "logprobs", true, "top_logprobs", 20,
                "max_tokens", 200)), 400);
        JsonNode ok = server.postOk("/v1/completions", completion("x", "n", 2, "logprobs", 2, "max_tokens", 4));
        assertEquals(2, ok.get("choices").size());
    }

    @Test
    void priorityIsRefusedUnlessTheServerEnablesIt() throws InterruptedException {
        JsonNode error = assertError(server.post("/v1/completions", completion("x", "max_tokens", 2, "priority", -5)), 400);
        assertEquals("priority", error.get("param").textValue());
        assertTrue(error.get("message").textValue().contains("--enable-request-priority"), error.toString());
        server.postOk("/v1/completions", completion("x", "max_tokens", 2, "priority", 0));
        try (TestServer enabled = TestServer.start("--enable-request-priority", "true")) {
            enabled.postOk("/v1/completions", completion("x", "max_tokens", 2, "priority", -5));
        }
    }

    @Test
    void topPZeroIsGreedy() {
        JsonNode greedy = server.postOk("/v1/completions", completion("The river", "max_tokens", 12, "temperature", 0));
        JsonNode topPZero = server.postOk("/v1/completions", completion("The river", "max_tokens", 12,
                "temperature", 1.5, "top_p", 0, "seed", 3));
        assertEquals(greedy.get("choices").get(0).get("text"), topPZero.get("choices").get(0).get("text"));
    }

    @Test
    void aSeedBeyondInt64NamesTheWholeRange() {
        JsonNode error = assertError(server.post("/v1/completions", "{\"prompt\":\"x\",\"seed\":18446744073709551616}"), 400);
        assertEquals("seed", error.get("param").textValue());
        String message = error.get("message").textValue();
        assertTrue(message.contains("between -9223372036854775808 and 9223372036854775807"), message);
    }

    @Test
    void anUnknownModelNameIsNotEchoedInFull() {
        String name = "m".repeat(1_000_000);
        JsonNode error = assertError(server.post("/v1/completions", completion("x", "model", name)), 404);
        assertEquals("model_not_found", error.get("code").textValue());
        assertTrue(error.get("message").textValue().length() < 400, "quoted at most 256 characters of the name");
        assertError(server.get("/v1/models/" + "m".repeat(2000)), 404);
    }

    @Test
    void aPromptThatCannotFitIsRefusedWithoutTokenizingIt() {
        String huge = "word ".repeat(3_000_000); // 15 MB: seconds to tokenize
        long start = System.nanoTime();
        JsonNode error = assertError(server.post("/v1/completions", completion(huge, "max_tokens", 2)), 400);
        assertEquals("context_length_exceeded", error.get("code").textValue());
        assertTrue(error.get("message").textValue().contains("at least"), error.toString());
        assertError(server.post("/v1/chat/completions", chat(huge)), 400);
        assertError(server.post("/tokenize", Map.of("prompt", huge)), 400);
        assertTrue((System.nanoTime() - start) / 1e9 < 20, "refused from its length (tokenizing would take longer)");
        assertStillServing();
    }

    @Test
    void inputIsNotEchoedBackInFullAndPromptKindsDoNotMix() {
        Map<String, Object> body = chat("x");
        body.put("messages", List.of(Map.of("role", "r".repeat(1_000_000), "content", "x")));
        HttpResponse<String> response = server.post("/v1/chat/completions", body);
        assertError(response, 400);
        assertTrue(response.body().length() < 1000, "the role is quoted, not echoed: " + response.body().length());
        assertEquals("prompt", assertError(server.post("/v1/completions",
                "{\"prompt\": [[1, 2], \"a\"], \"max_tokens\": 2}"), 400).get("param").textValue());
    }

    @Test
    void tokenizeAndDetokenizeCheckTheModel() {
        JsonNode error = assertError(server.post("/tokenize", Map.of("model", "nope", "prompt", "x")), 404);
        assertEquals("model_not_found", error.get("code").textValue());
        assertError(server.post("/detokenize", Map.of("model", "nope", "tokens", List.of(1, 2))), 404);
        assertEquals(200, server.post("/tokenize", Map.of("model", TestServer.MODEL, "prompt", "x")).statusCode());
        assertEquals(200, server.post("/detokenize", Map.of("model", TestServer.MODEL, "tokens", List.of(1, 2))).statusCode());
        assertEquals(200, server.post("/tokenize", Map.of("prompt", "x")).statusCode(), "model is optional");
    }
}
