package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.sluice.api.TestServer.assertError;
import static dev.sluice.api.TestServer.chat;
import static dev.sluice.api.TestServer.completion;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP surface byte for byte, with {@code java.net.http}: the SSE wire format, incremental
 * delivery, content negotiation, every error path and its OpenAI error body, and the operational
 * endpoints ({@code /health}, {@code /v1/models}, {@code /tokenize}, {@code /detokenize},
 * {@code /metrics}).
 */
class HttpApiTest {

    private static final int MAX_REQUEST_BYTES = 65536;
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start("--max-request-bytes", Integer.toString(MAX_REQUEST_BYTES));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    private static SseStream stream(String path, Object body) {
        return SseStream.open(server.http(), server.request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(TestServer.json(body))).build());
    }

    // ---- SSE ---------------------------------------------------------------------------------

    /** Checks the exact bytes: {@code data: <json>\n\n} events, no CR, {@code data: [DONE]\n\n} last. */
    private static List<JsonNode> assertSseFormat(SseStream stream, String object) {
        HttpResponse<?> response = stream.response();
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElseThrow().startsWith("text/event-stream"),
                response.headers().toString());
        List<SseStream.Event> events = stream.readAll();
        byte[] raw = stream.raw();
        String text = new String(raw, StandardCharsets.UTF_8);
        assertFalse(text.contains("\r"), "no carriage returns in the stream");
        assertTrue(text.startsWith("data: {"), text);
        assertTrue(text.endsWith("\n\ndata: [DONE]\n\n"), text);
        assertTrue(events.getLast().isDone());
        List<JsonNode> chunks = new ArrayList<>();
        for (SseStream.Event e : events.subList(0, events.size() - 1)) {
            assertFalse(e.isDone(), "[DONE] only once, last");
            JsonNode chunk = e.json();
            assertEquals(object, chunk.get("object").textValue(), e.text());
            chunks.add(chunk);
        }
        // Reassembling the events gives the bytes exactly: nothing between or around them.
        StringBuilder rebuilt = new StringBuilder();
        events.forEach(e -> rebuilt.append(e.text()).append("\n\n"));
        assertArrayEquals(raw, rebuilt.toString().getBytes(StandardCharsets.UTF_8));
        String id = chunks.getFirst().get("id").textValue();
        long created = chunks.getFirst().get("created").longValue();
        for (JsonNode chunk : chunks) {
            assertEquals(id, chunk.get("id").textValue());
            assertEquals(created, chunk.get("created").longValue());
            assertEquals(TestServer.MODEL, chunk.get("model").textValue());
        }
        return chunks;
    }

    @Test
    void chatStreamWireFormat() {
        List<JsonNode> chunks;
        try (SseStream s = stream("/v1/chat/completions", chat("Hello", "stream", true, "max_tokens", 6,
                "temperature", 0, "ignore_eos", true, "stream_options", Map.of("include_usage", true)))) {
            chunks = assertSseFormat(s, "chat.completion.chunk");
        }
        JsonNode first = chunks.getFirst().get("choices").get(0);
        assertEquals("assistant", first.get("delta").get("role").textValue());
        assertTrue(first.get("finish_reason").isNull());

        JsonNode usageChunk = chunks.getLast();
        assertEquals(0, usageChunk.get("choices").size(), "the usage chunk has empty choices");
        assertEquals(6, usageChunk.get("usage").get("completion_tokens").intValue());
        JsonNode finish = chunks.get(chunks.size() - 2).get("choices").get(0);
        assertEquals("length", finish.get("finish_reason").textValue(), "the finish chunk comes before the usage chunk");

        StringBuilder text = new StringBuilder();
        for (JsonNode chunk : chunks.subList(0, chunks.size() - 1)) {
            assertEquals(1, chunk.get("choices").size());
            assertTrue(chunk.has("usage") && chunk.get("usage").isNull(), "usage: null until the last chunk");
            JsonNode choice = chunk.get("choices").get(0);
            assertEquals(0, choice.get("index").intValue());
            assertTrue(choice.get("delta").isObject());
            assertTrue(choice.has("finish_reason"));
            if (choice.get("delta").has("content")) {
                text.append(choice.get("delta").get("content").textValue());
            }
            if (chunk != chunks.get(chunks.size() - 2)) {
                assertTrue(choice.get("finish_reason").isNull(), "one finish_reason, on the last choice chunk");
            }
        }
        JsonNode whole = server.postOk("/v1/chat/completions", chat("Hello", "max_tokens", 6, "temperature", 0,
                "ignore_eos", true));
        assertEquals(whole.get("choices").get(0).get("message").get("content").textValue(), text.toString());
    }

    @Test
    void completionStreamWireFormat() {
        List<JsonNode> chunks;
        try (SseStream s = stream("/v1/completions", completion("Hello", "stream", true, "max_tokens", 5,
                "temperature", 0, "ignore_eos", true))) {
            chunks = assertSseFormat(s, "text_completion");
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode chunk : chunks) {
            assertFalse(chunk.has("usage"), "no usage field unless asked");
            JsonNode choice = chunk.get("choices").get(0);
            text.append(choice.get("text").textValue());
        }
        assertEquals("length", chunks.getLast().get("choices").get(0).get("finish_reason").textValue());
        JsonNode whole = server.postOk("/v1/completions", completion("Hello", "max_tokens", 5, "temperature", 0,
                "ignore_eos", true));
        assertEquals(whole.get("choices").get(0).get("text").textValue(), text.toString());
    }

    @Test
    void chunksArriveAsTheyAreGenerated() {
        try (SseStream s = stream("/v1/chat/completions", chat("Write a long story.", "stream", true,
                "max_tokens", 300, "temperature", 0, "ignore_eos", true))) {
            assertEquals(200, s.response().statusCode());
            long firstContent = 0;
            int contentEvents = 0;
            long last = 0;
            for (SseStream.Event e; (e = s.next()) != null; ) {
                last = e.arrivalNanos();
                if (e.isDone()) {
                    break;
                }
                JsonNode delta = e.json().get("choices").get(0).get("delta");
                if (delta.has("content") && !delta.get("content").textValue().isEmpty()) {
                    contentEvents++;
                    if (firstContent == 0) {
                        firstContent = e.arrivalNanos();
                    }
                }
            }
            double toFirst = firstContent - s.startNanos();
            double total = last - s.startNanos();
            assertTrue(toFirst < 0.5 * total, String.format("first content after %.0f ms of %.0f ms", toFirst / 1e6, total / 1e6));
            assertTrue(contentEvents >= 20, "content arrived in " + contentEvents + " events for 300 tokens");
        }
    }

    /** vLLM's rule: the body's {@code stream} decides the format; the Accept header never does. */
    @ParameterizedTest
    @ValueSource(strings = {"application/json", "text/event-stream", "*/*", ""})
    void acceptHeaderNeverChangesTheFormat(String accept) {
        for (boolean stream : new boolean[] {false, true}) {
            HttpRequest.Builder b = server.request("/v1/chat/completions").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(TestServer.json(chat("Hi", "stream", stream, "max_tokens", 2))));
            if (!accept.isEmpty()) {
                b.header("Accept", accept);
            }
            HttpResponse<String> response = server.send(b.build());
            assertEquals(200, response.statusCode(), response::body);
            String type = response.headers().firstValue("Content-Type").orElseThrow();
            if (stream) {
                assertTrue(type.startsWith("text/event-stream"), type);
                assertTrue(response.body().startsWith("data: {") && response.body().endsWith("data: [DONE]\n\n"));
            } else {
                assertTrue(type.startsWith("application/json"), type);
                assertEquals("chat.completion", TestServer.parse(response.body()).get("object").textValue());
            }
        }
    }

    /** vLLM's {@code return_tokens_as_token_ids}: logprobs name tokens {@code token_id:<id>}. */
    @Test
    void logprobsCanNameTokensByTheirIds() {
        JsonNode chat = server.postOk("/v1/chat/completions", chat("Hi", "max_tokens", 4, "ignore_eos", true,
                "temperature", 0, "logprobs", true, "top_logprobs", 2, "return_tokens_as_token_ids", true));
        List<Integer> ids = new ArrayList<>();
        StringBuilder bytes = new StringBuilder();
        for (JsonNode entry : chat.get("choices").get(0).get("logprobs").get("content")) {
            String token = entry.get("token").textValue();
            assertTrue(token.matches("token_id:\\d+"), token);
            ids.add(Integer.parseInt(token.substring(9)));
            entry.get("bytes").forEach(b -> bytes.append((char) b.intValue()));
            assertEquals(token, entry.get("top_logprobs").get(0).get("token").textValue(), "greedy: the top one");
            assertTrue(entry.get("top_logprobs").get(1).get("token").textValue().startsWith("token_id:"));
        }
        assertEquals(4, ids.size());
        String text = chat.get("choices").get(0).get("message").get("content").textValue();
        // The bytes stay the token's own, and the ids spell the text.
        assertEquals(text, new String(bytes.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
        assertEquals(text, server.postOk("/detokenize", Map.of("tokens", ids)).get("prompt").textValue());

        JsonNode completion = server.postOk("/v1/completions", completion("Hi", "max_tokens", 3, "temperature", 0,
                "logprobs", 1, "return_tokens_as_token_ids", true));
        JsonNode logprobs = completion.get("choices").get(0).get("logprobs");
        for (int i = 0; i < logprobs.get("tokens").size(); i++) {
            String token = logprobs.get("tokens").get(i).textValue();
            assertTrue(token.matches("token_id:\\d+"), token);
            assertTrue(logprobs.get("top_logprobs").get(i).has(token), logprobs.toString());
        }
        assertEquals("return_tokens_as_token_ids", assertError(server.post("/v1/completions",
                completion("Hi", "return_tokens_as_token_ids", "yes")), 400).get("param").textValue());
    }

    // ---- errors ------------------------------------------------------------------------------

    static Stream<Arguments> badChatRequests() {
        String msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
        return Stream.of(
                Arguments.of("{bad", null),
                Arguments.of("", null),
                Arguments.of("[1, 2]", null),
                Arguments.of("\"a string\"", null),
                Arguments.of("42", null),
                Arguments.of("null", null),
                Arguments.of("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]", null),
                Arguments.of("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]} {", null),
                Arguments.of("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}]", null),
                Arguments.of("[".repeat(30000), null),
                Arguments.of("{}", "messages"),
                Arguments.of("{\"messages\":\"hi\"}", "messages"),
                Arguments.of("{\"messages\":[]}", "messages"),
                Arguments.of("{\"messages\":[\"hi\"]}", "messages[0]"),
                Arguments.of("{\"messages\":[{\"content\":\"hi\"}]}", "messages[0].role"),
                Arguments.of("{\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", "messages[0].role"),
                Arguments.of("{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "messages[0].content"),
                Arguments.of("{" + msgs + ",\"model\":5}", "model"),
                Arguments.of("{" + msgs + ",\"temperature\":\"hot\"}", "temperature"),
                Arguments.of("{" + msgs + ",\"temperature\":2.5}", "temperature"),
                Arguments.of("{" + msgs + ",\"temperature\":-0.1}", "temperature"),
                Arguments.of("{" + msgs + ",\"temperature\":1e400}", "temperature"),
                Arguments.of("{" + msgs + ",\"top_p\":1.5}", "top_p"),
                Arguments.of("{" + msgs + ",\"top_k\":-2}", "top_k"),
                Arguments.of("{" + msgs + ",\"min_p\":2}", "min_p"),
                Arguments.of("{" + msgs + ",\"presence_penalty\":3}", "presence_penalty"),
                Arguments.of("{" + msgs + ",\"frequency_penalty\":-2.5}", "frequency_penalty"),
                Arguments.of("{" + msgs + ",\"repetition_penalty\":0}", "repetition_penalty"),
                Arguments.of("{" + msgs + ",\"max_tokens\":1.5}", "max_tokens"),
                Arguments.of("{" + msgs + ",\"max_tokens\":\"10\"}", "max_tokens"),
                Arguments.of("{" + msgs + ",\"max_tokens\":0}", "max_tokens"),
                Arguments.of("{" + msgs + ",\"max_tokens\":-5}", "max_tokens"),
                Arguments.of("{" + msgs + ",\"max_tokens\":1e30}", "max_tokens"),
                Arguments.of("{" + msgs + ",\"max_completion_tokens\":true}", "max_completion_tokens"),
                Arguments.of("{" + msgs + ",\"n\":0}", "n"),
                Arguments.of("{" + msgs + ",\"n\":1000}", "n"),
                Arguments.of("{" + msgs + ",\"n\":\"two\"}", "n"),
                Arguments.of("{" + msgs + ",\"seed\":\"x\"}", "seed"),
                Arguments.of("{" + msgs + ",\"seed\":1.5}", "seed"),
                Arguments.of("{" + msgs + ",\"stream\":\"yes\"}", "stream"),
                Arguments.of("{" + msgs + ",\"stream_options\":{\"include_usage\":true}}", "stream_options"),
                Arguments.of("{" + msgs + ",\"stream\":true,\"stream_options\":{\"include_usage\":1}}", "stream_options.include_usage"),
                Arguments.of("{" + msgs + ",\"stop\":5}", "stop"),
                Arguments.of("{" + msgs + ",\"stop\":[\"\"]}", "stop"),
                Arguments.of("{" + msgs + ",\"stop\":[\"a\",1]}", "stop"),
                Arguments.of("{" + msgs + ",\"stop_token_ids\":[-1]}", "stop_token_ids"),
                Arguments.of("{" + msgs + ",\"logit_bias\":{\"abc\":1}}", "logit_bias"),
                Arguments.of("{" + msgs + ",\"logit_bias\":{\"99999999\":1}}", "logit_bias"),
                Arguments.of("{" + msgs + ",\"logit_bias\":{\"5\":200}}", "logit_bias"),
                Arguments.of("{" + msgs + ",\"logit_bias\":[1]}", "logit_bias"),
                Arguments.of("{" + msgs + ",\"logprobs\":\"yes\"}", "logprobs"),
                Arguments.of("{" + msgs + ",\"top_logprobs\":3}", "top_logprobs"),
                Arguments.of("{" + msgs + ",\"logprobs\":true,\"top_logprobs\":21}", "top_logprobs"),
                Arguments.of("{" + msgs + ",\"logprobs\":true,\"top_logprobs\":-1}", "top_logprobs"),
                Arguments.of("{" + msgs + ",\"user\":7}", "user"),
                Arguments.of("{" + msgs + ",\"ignore_eos\":\"true\"}", "ignore_eos"),
                // unsupported features: a clear 400, not silently ignored
                // tools: OpenAI's validation, each error naming its field
                Arguments.of("{" + msgs + ",\"tools\":{}}", "tools"),
                Arguments.of("{" + msgs + ",\"tools\":[{\"type\":\"retrieval\"}]}", "tools[0].type"),
                Arguments.of("{" + msgs + ",\"tools\":[{\"type\":\"function\"}]}", "tools[0].function"),
                Arguments.of("{" + msgs + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a b\"}}]}",
                        "tools[0].function.name"),
                Arguments.of("{" + msgs + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}},"
                        + "{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}", "tools[1].function.name"),
                Arguments.of("{" + msgs + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":[]}}]}",
                        "tools[0].function.parameters"),
                Arguments.of("{" + msgs + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
                        + "\"parameters\":{\"type\":\"string\"}}}]}", "tools[0].function.parameters"),
                Arguments.of("{" + msgs + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],"
                        + "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}}", "tool_choice"),
                Arguments.of("{" + msgs + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],"
                        + "\"tool_choice\":\"any\"}", "tool_choice"),
                Arguments.of("{" + msgs + ",\"tool_choice\":\"required\"}", "tool_choice"),
                Arguments.of("{" + msgs + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],"
                        + "\"parallel_tool_calls\":\"yes\"}", "parallel_tool_calls"),
                Arguments.of("{" + msgs + ",\"functions\":[{\"name\":\"f\"}],\"tools\":[{\"type\":\"function\","
                        + "\"function\":{\"name\":\"f\"}}]}", "functions"),
                Arguments.of("{" + msgs + ",\"functions\":[{\"name\":\"f\"}],\"function_call\":{\"name\":\"g\"}}",
                        "function_call"),
                Arguments.of("{\"messages\":[{\"role\":\"tool\",\"content\":\"42\"}]}", "messages[0].tool_call_id"),
                Arguments.of("{\"messages\":[{\"role\":\"function\",\"content\":\"42\"}]}", "messages[0].name"),
                Arguments.of("{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"1\",\"type\":\"function\","
                        + "\"function\":{\"name\":\"f\",\"arguments\":{}}}]}]}", "messages[0].tool_calls[0].function.arguments"),
                Arguments.of("{" + msgs + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{}}}",
                        "response_format.json_schema.name"),
                Arguments.of("{" + msgs + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\","
                        + "\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"not\":{}}}}}}}", "response_format.json_schema.schema"),
                Arguments.of("{" + msgs + ",\"response_format\":{\"type\":\"xml\"}}", "response_format.type"),
                Arguments.of("{" + msgs + ",\"response_format\":\"json\"}", "response_format"),
                Arguments.of("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:x\"}}]}]}",
                        "messages[0].content[0].type"),
                Arguments.of("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\"}]}]}",
                        "messages[0].content[0].type"),
                Arguments.of("{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"1\"}]}]}",
                        "messages[0].tool_calls[0].function"));
    }

    @ParameterizedTest
    @MethodSource("badChatRequests")
    void badChatRequestsAre400WithTheParam(String body, String param) {
        JsonNode error = assertError(server.post("/v1/chat/completions", body), 400);
        assertEquals("invalid_request_error", error.get("type").textValue());
        if (param == null) {
            assertTrue(error.get("param").isNull(), error::toString);
        } else {
            assertEquals(param, error.get("param").textValue(), error::toString);
        }
    }

    static Stream<Arguments> badCompletionRequests() {
        return Stream.of(
                Arguments.of("{}", "prompt"),
                Arguments.of("{\"prompt\":5}", "prompt"),
                Arguments.of("{\"prompt\":[]}", "prompt"),
                Arguments.of("{\"prompt\":\"\"}", "prompt"),
                Arguments.of("{\"prompt\":[-1]}", "prompt"),
                Arguments.of("{\"prompt\":[99999999]}", "prompt"),
                Arguments.of("{\"prompt\":[1, \"a\"]}", "prompt"),
                Arguments.of("{\"prompt\":[[1], 2]}", "prompt"),
                Arguments.of("{\"prompt\":[{\"a\":1}]}", "prompt"),
                Arguments.of("{\"prompt\":\"hi\",\"suffix\":\"x\"}", "suffix"),
                Arguments.of("{\"prompt\":\"hi\",\"prompt_logprobs\":21}", "prompt_logprobs"),
                Arguments.of("{\"prompt\":\"hi\",\"logprobs\":21}", "logprobs"),
                Arguments.of("{\"prompt\":\"hi\",\"logprobs\":true}", "logprobs"),
                Arguments.of("{\"prompt\":\"hi\",\"best_of\":3}", "best_of"),
                Arguments.of("{\"prompt\":[\"a\",\"b\",\"c\"],\"n\":50}", "n"),
                Arguments.of("{\"prompt\":\"hi\",\"max_tokens\":1.5}", "max_tokens"),
                Arguments.of("{\"prompt\":\"hi\",\"echo\":\"yes\"}", "echo"));
    }

    @ParameterizedTest
    @MethodSource("badCompletionRequests")
    void badCompletionRequestsAre400WithTheParam(String body, String param) {
        JsonNode error = assertError(server.post("/v1/completions", body), 400);
        assertEquals(param, error.get("param").textValue(), error::toString);
    }

    @Test
    void unknownModelIs404() {
        for (String path : List.of("/v1/chat/completions", "/v1/completions")) {
            Map<String, Object> body = path.contains("chat") ? chat("hi", "model", "gpt-4") : completion("hi", "model", "gpt-4");
            JsonNode error = assertError(server.post(path, body), 404);
            assertEquals("model", error.get("param").textValue());
            assertEquals("model_not_found", error.get("code").textValue());
            assertTrue(error.get("message").textValue().contains("gpt-4"));
        }
    }

    @Test
    void promptPlusMaxTokensBeyondTheContextNamesTheNumbers() {
        JsonNode error = assertError(server.post("/v1/completions", completion("Hello world", "max_tokens", 2000)), 400);
        assertEquals("context_length_exceeded", error.get("code").textValue());
        String message = error.get("message").textValue();
        assertTrue(message.contains("1024") && message.contains("2000") && message.contains("2002"), message);

        error = assertError(server.post("/v1/chat/completions", chat("Hello world", "max_tokens", 1020)), 400);
        assertEquals("context_length_exceeded", error.get("code").textValue());
        assertEquals("messages", error.get("param").textValue());

        // A prompt that alone fills the context, without max_tokens.
        String longText = "hello ".repeat(1100);
        error = assertError(server.post("/v1/chat/completions", chat(longText)), 400);
        assertEquals("context_length_exceeded", error.get("code").textValue());
        assertTrue(error.get("message").textValue().contains("1024"), error.toString());
        error = assertError(server.post("/v1/completions", completion(longText, "max_tokens", 1)), 400);
        assertEquals("context_length_exceeded", error.get("code").textValue());
        assertEquals("prompt", error.get("param").textValue());

        // The same prompt fits when it leaves room: prompt + max_tokens == the context is fine.
        int promptTokens = server.postOk("/tokenize", Map.of("prompt", "Hello world")).get("count").intValue();
        // (A logit bias makes token 15 certain and a stop token ends the generation there.)
        JsonNode ok = server.postOk("/v1/completions", completion("Hello world", "max_tokens",
                TestServer.MAX_MODEL_LEN - promptTokens, "logit_bias", Map.of("15", 100), "stop_token_ids", List.of(15)));
        assertEquals("stop", ok.get("choices").get(0).get("finish_reason").textValue());
        assertEquals(1, ok.get("usage").get("completion_tokens").intValue());
    }

    @Test
    void bodyOverTheLimitIs413() {
        String big = TestServer.json(chat("x".repeat(MAX_REQUEST_BYTES)));
        JsonNode error = assertError(server.post("/v1/chat/completions", big), 413);
        assertEquals("request_too_large", error.get("code").textValue());
        assertTrue(error.get("message").textValue().contains(Integer.toString(MAX_REQUEST_BYTES)));

        // The same without a Content-Length (chunked): counted while reading.
        HttpResponse<String> chunked = server.send(server.request("/v1/chat/completions")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8))))
                .build());
        assertEquals("request_too_large", assertError(chunked, 413).get("code").textValue());

        // Far over the limit (past Helidon's own payload limit, which is ours + 1 KiB): the same answer.
        String huge = TestServer.json(chat("x".repeat(4 * MAX_REQUEST_BYTES)));
        assertEquals("request_too_large", assertError(server.post("/v1/chat/completions", huge), 413).get("code").textValue());
        HttpResponse<String> hugeChunked = server.send(server.request("/v1/chat/completions")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(huge.getBytes(StandardCharsets.UTF_8))))
                .build());
        assertEquals("request_too_large", assertError(hugeChunked, 413).get("code").textValue());

        // Just under the limit is fine (and /tokenize has the same limit).
        String under = TestServer.json(Map.of("prompt", "y".repeat(MAX_REQUEST_BYTES - 100)));
        assertEquals(200, server.post("/tokenize", under).statusCode());
        assertError(server.post("/tokenize", TestServer.json(Map.of("prompt", "y".repeat(MAX_REQUEST_BYTES)))), 413);
        // The server still serves afterwards.
        assertEquals(200, server.get("/health").statusCode());
    }

    /**
     * A client still sending an over-limit body when the 413 comes reads the 413, not a reset:
     * the server reads the rest of the body before it closes (a socket closed with unread bytes
     * answers with a reset, which throws away the response the client has not read yet).
     */
    @Test
    void aClientStillSendingAnOverLimitBodyReadsThe413() throws Exception {
        byte[] body = new byte[4 * MAX_REQUEST_BYTES];
        Arrays.fill(body, (byte) 'x');
        for (boolean chunked : List.of(false, true)) {
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
                socket.setSoTimeout(10_000);
                var out = socket.getOutputStream();
                String framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + body.length;
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + framing + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                int half = body.length / 2;
                for (int[] part : new int[][] {{0, half}, {half, body.length}}) {
                    if (chunked) {
                        out.write((Integer.toHexString(part[1] - part[0]) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write(body, part[0], part[1] - part[0]);
                    if (chunked) {
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.flush();
                    // The server has answered by now (the first half is over the limit) and would
                    // close while the rest is still coming.
                    Thread.sleep(500);
                }
                if (chunked) {
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
                String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(response.startsWith("HTTP/1.1 413 "), response);
                JsonNode error = TestServer.parse(response.substring(response.indexOf("\r\n\r\n") + 4));
                assertEquals("request_too_large", error.get("error").get("code").textValue(), response);
            }
        }
    }

    /** What Helidon rejects before routing (a malformed request) still gets an OpenAI error body. */
    @Test
    void malformedHttpGetsAnOpenAiError() throws Exception {
        for (String request : List.of(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nThis is no header\r\n\r\n",
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + (10L * MAX_REQUEST_BYTES) + "\r\n\r\n{")) {
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
                socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                socket.setSoTimeout(10_000);
                String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                String status = response.substring(0, response.indexOf("\r\n"));
                assertTrue(status.matches("HTTP/1.1 4\\d\\d .*"), response);
                assertTrue(response.toLowerCase(java.util.Locale.ROOT).contains("content-type: application/json"), response);
                JsonNode body = TestServer.parse(response.substring(response.indexOf("\r\n\r\n") + 4));
                assertEquals(List.of("message", "type", "param", "code"), TestServer.fieldNames(body.get("error")), response);
                if (status.contains("413")) {
                    assertEquals("request_too_large", body.get("error").get("code").textValue());
                }
            }
        }
    }

    @Test
    void unknownRoutesAndMethodsGetOpenAiErrors() {
        JsonNode error = assertError(server.get("/v1/nothing"), 404);
        assertEquals("invalid_request_error", error.get("type").textValue());
        assertError(server.post("/v1/audio/speech", "{}"), 404);
        assertError(server.get("/v1/embeddings"), 405);
        HttpResponse<String> wrongMethod = server.get("/v1/chat/completions");
        assertError(wrongMethod, 405);
        assertEquals("POST", wrongMethod.headers().firstValue("Allow").orElseThrow());
        assertError(server.send(server.request("/v1/models").DELETE().build()), 405);
        assertError(server.post("/health", "{}"), 405);
        assertError(server.get("/tokenize"), 405);
    }

    // ---- operational endpoints -------------------------------------------------------------------

    @Test
    void health() {
        HttpResponse<String> response = server.get("/health");
        assertEquals(200, response.statusCode());
        assertEquals("ready", TestServer.parse(response.body()).get("status").textValue());
    }

    @Test
    void models() {
        HttpResponse<String> response = server.get("/v1/models");
        assertEquals(200, response.statusCode());
        JsonNode list = TestServer.parse(response.body());
        assertEquals("list", list.get("object").textValue());
        assertEquals(1, list.get("data").size());
        JsonNode model = list.get("data").get(0);
        assertEquals(TestServer.MODEL, model.get("id").textValue());
        assertEquals("model", model.get("object").textValue());
        assertTrue(model.get("created").isIntegralNumber());
        assertEquals("sluice", model.get("owned_by").textValue());
        assertEquals(TestServer.MAX_MODEL_LEN, model.get("max_model_len").intValue());

        HttpResponse<String> one = server.get("/v1/models/" + TestServer.MODEL);
        assertEquals(200, one.statusCode());
        assertEquals(model, TestServer.parse(one.body()));
        JsonNode error = assertError(server.get("/v1/models/other-model"), 404);
        assertEquals("model_not_found", error.get("code").textValue());
    }

    @Test
    void tokenizeAndDetokenizeRoundTrip() {
        String text = "Hello, world! Ünïcödé 你好 🎉 <|im_start|>";
        JsonNode tokens = server.postOk("/tokenize", Map.of("prompt", text, "return_token_strs", true));
        assertEquals(tokens.get("tokens").size(), tokens.get("count").intValue());
        assertEquals(tokens.get("count").intValue(), tokens.get("token_strs").size());
        assertEquals(TestServer.MAX_MODEL_LEN, tokens.get("max_model_len").intValue());
        JsonNode text2 = server.postOk("/detokenize", Map.of("tokens", tokens.get("tokens")));
        assertEquals(text, text2.get("prompt").textValue());
        // Special tokens in plain prompts are text, not control tokens (as completions tokenize them).
        int special = server.postOk("/tokenize", Map.of("prompt", "<|im_start|>")).get("count").intValue();
        assertTrue(special > 1, "'<|im_start|>' in a prompt is plain text: " + special);

        JsonNode chatTokens = server.postOk("/tokenize", Map.of("messages", List.of(Map.of("role", "user", "content", "Hi"))));
        JsonNode chatStrs = server.postOk("/tokenize", Map.of("messages", List.of(Map.of("role", "user", "content", "Hi")),
                "return_token_strs", true)).get("token_strs");
        StringBuilder rendered = new StringBuilder();
        chatStrs.forEach(t -> rendered.append(t.textValue()));
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", rendered.toString());
        // The chat prompt's length is what the chat endpoint reports as prompt_tokens.
        JsonNode usage = server.postOk("/v1/chat/completions", chat("Hi", "max_tokens", 1)).get("usage");
        assertEquals(chatTokens.get("count").intValue(), usage.get("prompt_tokens").intValue());

        assertEquals("prompt", assertError(server.post("/tokenize", "{}"), 400).get("param").textValue());
        assertEquals("tokens", assertError(server.post("/detokenize", "{}"), 400).get("param").textValue());
        assertEquals("tokens", assertError(server.post("/detokenize", "{\"tokens\":[-1]}"), 400).get("param").textValue());
        assertEquals("tokens", assertError(server.post("/detokenize", "{\"tokens\":[\"a\"]}"), 400).get("param").textValue());
        assertError(server.post("/tokenize", "{bad"), 400);
        assertEquals("messages", assertError(server.post("/tokenize", "{\"messages\":\"x\"}"), 400).get("param").textValue());
        assertEquals("messages", assertError(server.post("/tokenize", "{\"messages\":[]}"), 400).get("param").textValue());
        assertEquals("messages[0].role", assertError(server.post("/tokenize", "{\"messages\":[{\"role\":\"x\"}]}"), 400)
                .get("param").textValue());
    }

    /**
     * vLLM ({@code tokenizer.decode}, special tokens kept) and llama-server (pieces with special
     * tokens rendered) both return a chat prompt's control tokens from {@code /detokenize}, so
     * {@code /tokenize} of messages round-trips. Sluice drops them: {@code Tokenizer.decode} always
     * skips control tokens and the engine offers no decode that renders them (the API cannot call
     * the native vocabulary itself: only the Tokenizer guards it against use after close).
     */
    @Test
    void detokenizeRendersControlTokensLikeVllm() {
        JsonNode chatTokens = server.postOk("/tokenize", Map.of("messages", List.of(Map.of("role", "user", "content", "Hi"))));
        JsonNode chatText = server.postOk("/detokenize", Map.of("tokens", chatTokens.get("tokens")));
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", chatText.get("prompt").textValue());
    }

    @Test
    void metricsAreValidPrometheusAndCount() throws InterruptedException {
        PrometheusText before = server.metrics();
        for (String family : List.of("sluice:num_requests_running", "sluice:num_requests_waiting",
                "sluice:kv_cache_usage_perc", "sluice:kv_cache_blocks_used", "sluice:prompt_tokens_total",
                "sluice:generation_tokens_total", "sluice:request_success_total", "sluice:time_to_first_token_seconds",
                "sluice:e2e_request_latency_seconds", "sluice:model_ready")) {
            assertTrue(before.types().containsKey(family), family + " in " + before.types().keySet());
        }
        assertEquals(1, before.value("sluice:model_ready"));
        assertEquals(2048, before.value("sluice:kv_cache_blocks_total"));

        server.postOk("/v1/completions", completion("Counting", "max_tokens", 5, "ignore_eos", true));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        PrometheusText after;
        do {
            after = server.metrics();
            if (after.value("sluice:e2e_request_latency_seconds_count") > before.value("sluice:e2e_request_latency_seconds_count")) {
                break;
            }
            Thread.sleep(10);
        } while (System.nanoTime() < deadline);
        assertEquals(before.value("sluice:generation_tokens_total") + 5, after.value("sluice:generation_tokens_total"));
        assertEquals(before.value("sluice:prompt_tokens_total") + 2, after.value("sluice:prompt_tokens_total"),
                "'Counting' is 2 tokens");
        assertEquals(before.value("sluice:request_success_total", "finished_reason", "length") + 1,
                after.value("sluice:request_success_total", "finished_reason", "length"));
        assertEquals(before.value("sluice:request_success_total", "finished_reason", "abort"),
                after.value("sluice:request_success_total", "finished_reason", "abort"), "a finished request is no abort");
        assertEquals(before.value("sluice:e2e_request_latency_seconds_count") + 1,
                after.value("sluice:e2e_request_latency_seconds_count"));
        assertEquals(before.value("sluice:time_to_first_token_seconds_count") + 1,
                after.value("sluice:time_to_first_token_seconds_count"));
        assertTrue(after.value("sluice:iteration_tokens_total_count") > before.value("sluice:iteration_tokens_total_count"));
        assertTrue(after.value("sluice:kv_cache_blocks_peak") >= 1, "a request used at least one block");
        double waste = after.value("sluice:kv_cache_waste_at_peak_perc");
        assertTrue(waste >= 0 && waste < 1, "a fraction: " + waste);
        HttpResponse<String> raw = server.get("/metrics");
        assertTrue(raw.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
    }
}
