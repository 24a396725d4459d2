package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Schema;
import dev.sluice.api.structured.SchemaOracle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static dev.sluice.api.TestServer.assertError;
import static dev.sluice.api.TestServer.chat;
import static dev.sluice.api.TestServer.completion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Structured outputs end to end over HTTP on the tiny random-weight Qwen2 model (its real
 * 151k-token vocabulary): every field that carries a constraint, the finish reasons a grammar
 * gives (complete: stop; cut by max_tokens: length), streaming, and the 400s.
 */
class StructuredOutputHttpTest {

    /** Bounded everywhere, so a random model finishes it well within max_tokens. */
    static final String SCHEMA = """
            {"type":"object","properties":{
              "name":{"type":"string","maxLength":6},
              "n":{"type":"integer","minimum":0,"maximum":99},
              "ok":{"type":"boolean"},
              "tag":{"enum":["a","b",null]},
              "when":{"type":"string","format":"date"}},
             "required":["name","n","ok","tag","when"],"additionalProperties":false}""";

    private static TestServer server;
    private static JsonNode schemaNode;
    private static Schema schema;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        schemaNode = TestServer.parse(SCHEMA);
        schema = SchemaOracle.schema(schemaNode);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    private static Map<String, Object> jsonSchemaFormat() {
        return Map.of("type", "json_schema", "json_schema", Map.of("name", "thing", "schema", schemaNode, "strict", true));
    }

    @Test
    void chatWithAJsonSchemaAnswersValidJsonAndStops() {
        for (int seed = 0; seed < 3; seed++) {
            JsonNode choice = server.postOk("/v1/chat/completions", chat("Describe a thing.", "response_format",
                    jsonSchemaFormat(), "seed", seed, "max_tokens", 300)).get("choices").get(0);
            assertEquals("stop", choice.get("finish_reason").textValue(), choice::toString);
            String content = choice.get("message").get("content").textValue();
            assertEquals(List.of(), SchemaOracle.problems(schema, content), content);
        }
    }

    @Test
    void streamingAssemblesToValidJson() {
        HttpRequest request = server.request("/v1/chat/completions").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(TestServer.json(chat("Describe a thing.", "response_format",
                        jsonSchemaFormat(), "seed", 11, "max_tokens", 300, "stream", true)))).build();
        StringBuilder content = new StringBuilder();
        String finish = null;
        try (SseStream stream = SseStream.open(server.http(), request)) {
            for (SseStream.Event event : stream.readAll()) {
                if (event.isDone()) {
                    continue;
                }
                JsonNode choice = event.json().get("choices").get(0);
                JsonNode text = choice.get("delta").get("content");
                if (text != null && text.isTextual()) {
                    content.append(text.textValue());
                }
                if (choice.hasNonNull("finish_reason")) {
                    finish = choice.get("finish_reason").textValue();
                }
            }
        }
        assertEquals("stop", finish);
        assertEquals(List.of(), SchemaOracle.problems(schema, content.toString()), content::toString);
    }

    @Test
    void maxTokensCutsAConstrainedAnswerWithLength() {
        JsonNode choice = server.postOk("/v1/chat/completions", chat("x", "response_format", Map.of("type", "json_object"),
                "seed", 1, "max_tokens", 3)).get("choices").get(0);
        assertEquals("length", choice.get("finish_reason").textValue());
        assertTrue(choice.get("message").get("content").textValue().startsWith("{"), choice::toString);
    }

    @Test
    void completionsTakeResponseFormatAndVllmAndLlamaServerFields() {
        for (Object[] field : new Object[][]{{"response_format", jsonSchemaFormat()}, {"guided_json", schemaNode},
                {"guided_json", SCHEMA}, {"structured_outputs", Map.of("json", schemaNode)}, {"json_schema", schemaNode}}) {
            JsonNode choice = server.postOk("/v1/completions", completion("Once", field[0], field[1], "seed", 3,
                    "max_tokens", 300)).get("choices").get(0);
            assertEquals("stop", choice.get("finish_reason").textValue(), choice::toString);
            assertEquals(List.of(), SchemaOracle.problems(schema, choice.get("text").textValue()), choice::toString);
        }
    }

    @Test
    void regexChoiceAndGrammarConstrainTheText() {
        Pattern regex = Pattern.compile("[a-c]{2}-\\d{2}");
        for (Object[] field : new Object[][]{{"guided_regex", regex.pattern()},
                {"structured_outputs", Map.of("regex", regex.pattern())}}) {
            String text = server.postOk("/v1/completions", completion("x", field[0], field[1], "seed", 5, "max_tokens", 20))
                    .get("choices").get(0).get("text").textValue();
            assertTrue(regex.matcher(text).matches(), text);
        }
        for (Object[] field : new Object[][]{{"guided_choice", List.of("yes", "no")},
                {"structured_outputs", Map.of("choice", List.of("yes", "no"))}}) {
            JsonNode choice = server.postOk("/v1/chat/completions", chat("?", field[0], field[1], "max_tokens", 20))
                    .get("choices").get(0);
            assertTrue(Set.of("yes", "no").contains(choice.get("message").get("content").textValue()), choice::toString);
            assertEquals("stop", choice.get("finish_reason").textValue());
        }
        for (String field : new String[]{"grammar", "guided_grammar"}) {
            String text = server.postOk("/v1/completions", completion("x", field, "root ::= \"ok\" [0-9]", "max_tokens", 20))
                    .get("choices").get(0).get("text").textValue();
            assertTrue(text.matches("ok[0-9]"), text);
        }
    }

    @Test
    void unsupportedKeywordsAndBadConstraintsAre400sNamingTheParamAndKeyword() {
        String[][] cases = {
                // body field, value, param, words the message must contain
                {"response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
                        + "{\"type\":\"array\",\"uniqueItems\":true}}}", "response_format.json_schema.schema", "uniqueItems"},
                {"response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
                        + "{\"type\":\"object\",\"patternProperties\":{\"^a\":{}}}}}", "response_format.json_schema.schema",
                        "patternProperties"},
                {"response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
                        + "{\"type\":\"number\",\"multipleOf\":0.5}}}", "response_format.json_schema.schema", "multipleOf"},
                {"response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
                        + "{\"type\":\"string\",\"format\":\"ipv6\"}}}", "response_format.json_schema.schema", "format"},
                {"response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
                        + "{\"type\":\"array\",\"maxItems\":100000}}}", "response_format.json_schema.schema", "maxItems"},
                {"response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
                        + "{\"$ref\":\"#/$defs/missing\"}}}", "response_format.json_schema.schema", "missing"},
                {"guided_json", "{\"type\":\"string\",\"pattern\":\"(a)\\\\1\"}", "guided_json", "backreferences"},
                {"structured_outputs", "{\"json\":{\"not\":{}}}", "structured_outputs.json", "not"},
                {"guided_regex", "\"a(?=b)\"", "guided_regex", "lookaround"},
                {"grammar", "\"root ::= undefined\"", "grammar", "undefined"},
                {"grammar", "\"root ::= root \\\"x\\\" | \\\"x\\\"\"", "grammar", "left-recursive"},
                {"guided_choice", "[]", "guided_choice", "array"},
                {"json_schema", "{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"string\",\"maxLength\":3}]}", "json_schema", "oneOf"},
        };
        for (String[] c : cases) {
            String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"" + c[0] + "\":" + c[1] + "}";
            JsonNode error = assertError(server.post("/v1/chat/completions", body), 400);
            assertEquals(c[2], error.get("param").textValue(), error::toString);
            assertTrue(error.get("message").textValue().contains(c[3]), error::toString);
        }
        JsonNode two = assertError(server.post("/v1/chat/completions", TestServer.json(chat("x", "response_format",
                Map.of("type", "json_object"), "guided_regex", "a"))), 400);
        assertEquals("guided_regex", two.get("param").textValue());
        JsonNode eos = assertError(server.post("/v1/completions", TestServer.json(completion("x", "guided_regex", "a",
                "ignore_eos", true))), 400);
        assertEquals("ignore_eos", eos.get("param").textValue());
    }
}
