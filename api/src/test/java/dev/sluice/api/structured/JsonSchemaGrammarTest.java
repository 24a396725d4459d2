package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compiler's contract beyond the corpus: embedding, refusals, invalid schemas and size bounds. */
class JsonSchemaGrammarTest {

    private static GrammarHarness harness;

    @BeforeAll
    static void load() {
        harness = new GrammarHarness();
    }

    @AfterAll
    static void unload() {
        harness.close();
    }

    private static JsonNode json(String text) {
        return SchemaOracle.parse(text);
    }

    @Test
    void rulesForAStartRuleEmbedWithoutCollisions() {
        JsonNode a = json("{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9}},"
                + "\"required\":[\"x\"],\"additionalProperties\":false}");
        JsonNode b = json("{\"type\":\"object\",\"properties\":{\"x\":{\"enum\":[\"p\",\"q\"]}},\"required\":[\"x\"],"
                + "\"additionalProperties\":false}");
        String ga = JsonSchemaGrammar.compile(a, "tool-a");
        String gb = JsonSchemaGrammar.compile(b, "tool-b");
        for (String[] g : new String[][]{{ga, "tool-a"}, {gb, "tool-b"}}) {
            Matcher names = Pattern.compile("(?m)^([a-zA-Z0-9-]+) ::=").matcher(g[0]);
            int count = 0;
            while (names.find()) {
                count++;
                assertTrue(names.group(1).equals(g[1]) || names.group(1).startsWith(g[1] + "-"), names.group(1));
            }
            assertTrue(count > 1);
        }
        String combined = "root ::= \"<a>\" tool-a \"</a>\" | \"<b>\" tool-b \"</b>\"\n" + ga + gb;
        assertTrue(harness.accepts(combined, "<a>{\"x\":3}</a>"));
        assertTrue(harness.accepts(combined, "<b>{\"x\":\"q\"}</b>"));
        assertFalse(harness.accepts(combined, "<a>{\"x\":\"q\"}</a>"));
        assertThrows(IllegalArgumentException.class, () -> JsonSchemaGrammar.compile(a, "bad_name"));
    }

    @Test
    void jsonObjectGrammarIsAnyObject() {
        String g = JsonSchemaGrammar.jsonObjectGrammar();
        assertTrue(harness.accepts(g, "{}"));
        assertTrue(harness.accepts(g, "{\"a\": [1, {\"b\": null}], \"c\": \"d\"}"));
        assertFalse(harness.accepts(g, "[]"));
        assertFalse(harness.accepts(g, "{\"a\":}"));
    }

    @Test
    void keywordsThatCannotBeEnforcedAreRefusedByNameAndPlace() {
        String[][] cases = {
                {"{\"type\":\"object\",\"properties\":{\"a\":{\"not\":{\"type\":\"null\"}}}}", "not", "/properties/a"},
                {"{\"if\":{},\"then\":{}}", "if", ""},
                {"{\"type\":\"object\",\"patternProperties\":{\"x\":{}}}", "patternProperties", ""},
                {"{\"type\":\"object\",\"propertyNames\":{\"maxLength\":3}}", "propertyNames", ""},
                {"{\"type\":\"array\",\"contains\":{\"type\":\"null\"}}", "contains", ""},
                {"{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"uniqueItems\":true}", "uniqueItems", ""},
                {"{\"type\":\"number\",\"multipleOf\":3}", "multipleOf", ""},
                {"{\"type\":\"number\",\"minimum\":0.5}", "minimum", ""},
                {"{\"type\":\"string\",\"format\":\"iri\"}", "format", ""},
                {"{\"type\":\"string\",\"pattern\":\"^a+$\",\"maxLength\":3}", "maxLength", ""},
                {"{\"type\":\"string\",\"format\":\"date\",\"pattern\":\"x\"}", "pattern", ""},
                {"{\"$ref\":\"http://example.com/schema\"}", "$ref", ""},
                {"{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"number\"}]}", "oneOf", ""},
                {"{\"type\":\"object\",\"properties\":{\"a\":{},\"b\":{}},\"maxProperties\":1}", "maxProperties", ""},
                {"{\"type\":\"object\",\"minProperties\":1}", "minProperties", ""},
                {"{\"enum\":[\"a\",\"bb\"],\"maxLength\":1}", "maxLength", ""},
                {"{\"type\":\"array\",\"maxItems\":100000}", "maxItems", ""},
                {"{\"type\":\"string\",\"maxLength\":50000}", "maxLength", ""},
                {"{\"type\":\"integer\",\"minimum\":1e20}", "minimum", ""},
                {"{\"allOf\":[{\"type\":\"string\",\"pattern\":\"a\"},{\"pattern\":\"b\"}]}", "pattern", ""},
                {"{\"type\":\"array\",\"items\":{\"$id\":\"http://x/item\",\"type\":\"null\"}}", "$id", "/items"},
        };
        for (String[] c : cases) {
            UnsupportedSchemaException e = assertThrows(UnsupportedSchemaException.class,
                    () -> JsonSchemaGrammar.compile(json(c[0])), c[0]);
            assertEquals(c[1], e.keyword(), c[0] + ": " + e.getMessage());
            assertEquals(c[2], e.path(), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
    }

    @Test
    void invalidSchemasAreRefusedWithAReason() {
        for (String schema : List.of("false", "[]", "{\"type\":\"strin\"}", "{\"$ref\":\"#/$defs/none\"}",
                "{\"type\":\"object\",\"properties\":{\"a\":false},\"required\":[\"a\"]}",
                "{\"type\":\"integer\",\"minimum\":5,\"maximum\":4}", "{\"enum\":[]}", "{\"type\":\"string\",\"minLength\":-1}",
                "{\"anyOf\":[{\"$ref\":\"#\"},{\"type\":\"null\"}]}", "{\"allOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}",
                "{\"type\":\"array\",\"prefixItems\":[{}],\"items\":false,\"minItems\":2}")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonSchemaGrammar.compile(json(schema)),
                    schema);
            assertFalse(e instanceof UnsupportedSchemaException, schema + ": " + e.getMessage());
        }
    }

    @Test
    void largeButBoundedSchemasCompileToGrammarsLlamaCppTakes() {
        String g = JsonSchemaGrammar.compile(json("{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":3000},"
                + "\"minItems\":2100,\"maxItems\":4500}"));
        assertTrue(harness.parses(g));
        StringBuilder props = new StringBuilder("{\"type\":\"object\",\"properties\":{");
        for (int i = 0; i < 500; i++) {
            props.append(i == 0 ? "" : ",").append("\"p").append(i).append("\":{\"enum\":[").append(i).append(",null]}");
        }
        String many = JsonSchemaGrammar.compile(json(props.append("}}").toString()));
        assertTrue(harness.parses(many));
        assertTrue(harness.accepts(many, "{\"p3\":3,\"p499\":null}"));
        assertFalse(harness.accepts(many, "{\"p499\":null,\"p3\":3}")); // declared order
    }
}
