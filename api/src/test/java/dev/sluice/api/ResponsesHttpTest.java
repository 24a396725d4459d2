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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /v1/responses} on the wire: the response object's fields, the stream's {@code event:}
 * lines and sequence numbers, and a 400 naming the field for everything the server cannot
 * honour (hosted tools, background, non-text input, reasoning effort, …) or that is malformed.
 */
class ResponsesHttpTest {

    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    private static Map<String, Object> body(Object... more) {
        Map<String, Object> body = new HashMap<>();
        body.put("model", TestServer.MODEL);
        body.put("input", "Hello there.");
        body.put("max_output_tokens", 4);
        for (int i = 0; i < more.length; i += 2) {
            body.put((String) more[i], more[i + 1]);
        }
        return body;
    }

    private static void assertRefused(String param, Object... more) {
        JsonNode error = TestServer.assertError(server.post("/v1/responses", body(more)), 400);
        assertEquals(param, error.get("param").asText(null), error::toString);
        assertEquals("invalid_request_error", error.get("type").asText());
    }

    @Test
    void theResponseObjectHasOpenAisFields() {
        JsonNode r = server.postOk("/v1/responses", body("metadata", Map.of("k", "v"), "temperature", 0));
        assertEquals(List.of("id", "object", "created_at", "status", "background", "error", "incomplete_details",
                "instructions", "max_output_tokens", "max_tool_calls", "model", "output", "parallel_tool_calls",
                "previous_response_id", "reasoning", "service_tier", "store", "temperature", "text", "tool_choice",
                "tools", "top_logprobs", "top_p", "truncation", "usage", "user", "metadata"), TestServer.fieldNames(r));
        assertEquals("response", r.get("object").asText());
        boolean cut = r.get("status").asText().equals("incomplete"); // else the model ended within 4 tokens
        assertEquals(cut ? "incomplete" : "completed", r.get("status").asText());
        assertEquals(cut ? "max_output_tokens" : null, r.get("incomplete_details").path("reason").asText(null));
        assertEquals("v", r.get("metadata").get("k").asText());
        JsonNode message = r.get("output").get(0);
        assertEquals(List.of("id", "type", "status", "content", "role"), TestServer.fieldNames(message));
        assertEquals(r.get("status").asText(), message.get("status").asText());
        assertEquals(List.of("type", "annotations", "logprobs", "text"), TestServer.fieldNames(message.get("content").get(0)));
        JsonNode usage = r.get("usage");
        assertEquals(List.of("input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details", "total_tokens"),
                TestServer.fieldNames(usage));
        assertEquals(cut, usage.get("output_tokens").asInt() == 4);
    }

    @Test
    void theStreamNamesEachEventAndNumbersThemFromZero() {
        HttpResponse<String> res = server.post("/v1/responses", body("stream", true, "temperature", 0));
        assertEquals(200, res.statusCode(), res::body);
        assertTrue(res.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<String> types = new ArrayList<>();
        String[] blocks = res.body().split("\n\n");
        for (int i = 0; i < blocks.length; i++) {
            String[] lines = blocks[i].split("\n");
            assertEquals(2, lines.length, blocks[i]);
            assertTrue(lines[0].startsWith("event: "), blocks[i]);
            assertTrue(lines[1].startsWith("data: "), blocks[i]);
            JsonNode data = TestServer.parse(lines[1].substring(6));
            assertEquals(lines[0].substring(7), data.get("type").asText());
            assertEquals(i, data.get("sequence_number").asInt());
            types.add(data.get("type").asText());
        }
        assertFalse(res.body().contains("[DONE]"));
        assertEquals("response.created", types.getFirst());
        assertTrue(types.getLast().equals("response.incomplete") || types.getLast().equals("response.completed"), types::toString);
    }

    @Test
    void hostedToolsAreRefused() {
        for (String type : List.of("web_search", "web_search_preview", "file_search", "computer_use_preview",
                "code_interpreter", "image_generation", "mcp", "local_shell")) {
            assertRefused("tools[1].type", "tools", List.of(Map.of("type", "function", "name", "f"), Map.of("type", type)));
        }
        assertRefused("tool_choice.type", "tools", List.of(Map.of("type", "function", "name", "f")),
                "tool_choice", Map.of("type", "web_search_preview"));
    }

    @Test
    void unsupportedFieldsAreRefusedByName() {
        assertRefused("background", "background", true);
        assertRefused("reasoning.effort", "reasoning", Map.of("effort", "high"));
        assertRefused("truncation", "truncation", "auto");
        assertRefused("include", "include", List.of("message.output_text.logprobs"));
        assertRefused("conversation", "conversation", "conv_123");
        assertRefused("prompt", "prompt", Map.of("id", "pmpt_1"));
        assertRefused("max_tool_calls", "max_tool_calls", 2);
        assertRefused("top_logprobs", "top_logprobs", 2);
        assertRefused("text.format.type", "text", Map.of("format", Map.of("type", "grammar")));
        // What Codex sends to a model without reasoning is accepted.
        server.postOk("/v1/responses", body("reasoning", Map.of("effort", "none"), "include",
                List.of("reasoning.encrypted_content"), "truncation", "disabled", "background", false));
    }

    @Test
    void nonTextInputIsRefused() {
        for (String type : List.of("input_image", "input_file", "input_audio")) {
            assertRefused("input[0].content[1].type", "input", List.of(Map.of("role", "user", "content",
                    List.of(Map.of("type", "input_text", "text", "Look:"), Map.of("type", type)))));
        }
        assertRefused("input[0].type", "input", List.of(Map.of("type", "item_reference", "id", "msg_1")));
        assertRefused("input[0].role", "input", List.of(Map.of("role", "robot", "content", "hi")));
        assertRefused("input[1].call_id", "input", List.of(Map.of("role", "user", "content", "hi"),
                Map.of("type", "function_call_output", "output", "x")));
        Map<String, Object> missing = body();
        missing.remove("input");
        JsonNode error = TestServer.assertError(server.post("/v1/responses", missing), 400);
        assertEquals("input", error.get("param").asText());
    }

    @Test
    void chatsValidationNamesTheResponsesFields() {
        assertRefused("max_output_tokens", "max_output_tokens", 0);
        assertRefused("temperature", "temperature", 3);
        assertRefused("tools[0].name", "tools", List.of(Map.of("type", "function")));
        assertRefused("tool_choice", "tools", List.of(Map.of("type", "function", "name", "f")),
                "tool_choice", Map.of("type", "function", "name", "g"));
        JsonNode error = TestServer.assertError(server.post("/v1/responses", body("text", Map.of("format",
                Map.of("type", "json_schema", "name", "x", "schema", Map.of("type", "nonsense"))))), 400);
        assertTrue(error.get("param").asText().startsWith("text.format"), error::toString);
        assertRefused("metadata", "metadata", Map.of("k", 1));
    }

    @Test
    void unknownResponsesAre404() {
        JsonNode error = TestServer.assertError(server.post("/v1/responses", body("previous_response_id", "resp_nope")), 404);
        assertEquals("previous_response_id", error.get("param").asText());
        TestServer.assertError(server.get("/v1/responses/resp_nope"), 404);
        TestServer.assertError(server.get("/v1/responses/resp_nope/input_items"), 404);
        TestServer.assertError(server.post("/v1/responses/resp_nope/cancel", "{}"), 404);
        TestServer.assertError(server.send(server.request("/v1/responses/resp_nope").DELETE().build()), 404);
        TestServer.assertError(server.get("/v1/responses"), 405);
    }

    @Test
    void aFinishedResponseCannotBeCancelledAndDeleteAnswersOpenAisShape() {
        JsonNode r = server.postOk("/v1/responses", body());
        String id = r.get("id").asText();
        TestServer.assertError(server.post("/v1/responses/" + id + "/cancel", "{}"), 400);
        HttpResponse<String> deleted = server.send(server.request("/v1/responses/" + id).DELETE().build());
        assertEquals(200, deleted.statusCode());
        JsonNode d = TestServer.parse(deleted.body());
        assertEquals(List.of("id", "object", "deleted"), TestServer.fieldNames(d));
        assertEquals(id, d.get("id").asText());
        assertTrue(d.get("deleted").asBoolean());
    }
}
