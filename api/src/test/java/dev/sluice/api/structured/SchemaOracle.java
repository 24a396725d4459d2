package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;

import java.util.List;

/**
 * The independent judge of the compiler's output: networknt's JSON Schema validator (2020-12 by
 * default, the schema's {@code $schema} otherwise, formats asserted) after a strict Jackson parse.
 */
public final class SchemaOracle {

    static final ObjectMapper STRICT = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
            b -> b.schemaRegistryConfig(SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));

    private SchemaOracle() {
    }

    public static Schema schema(JsonNode schema) {
        return REGISTRY.getSchema(schema);
    }

    /** The JSON document {@code text} parses to, or null if it is not one JSON value. */
    public static JsonNode parse(String text) {
        try {
            return STRICT.readTree(text);
        } catch (Exception e) {
            return null;
        }
    }

    /** Why {@code text} is not a valid instance of {@code schema}; empty when it is. */
    public static List<String> problems(Schema schema, String text) {
        JsonNode doc = parse(text);
        if (doc == null || text.isBlank()) {
            return List.of("not a single JSON value");
        }
        return schema.validate(doc).stream().map(e -> e.getInstanceLocation() + ": " + e.getMessage()).toList();
    }
}
