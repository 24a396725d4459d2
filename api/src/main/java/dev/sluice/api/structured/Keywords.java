package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.Set;

/** Which JSON Schema keywords the compiler enforces, ignores (annotations) or refuses. */
final class Keywords {

    /** Say nothing about which instances are valid. Unknown keywords are ignored too, as JSON Schema says. */
    static final Set<String> ANNOTATIONS = Set.of("title", "description", "examples", "default", "$schema", "$id",
            "$comment", "$defs", "definitions", "deprecated", "readOnly", "writeOnly", "contentEncoding",
            "contentMediaType", "contentSchema", "$anchor", "$dynamicAnchor", "$vocabulary", "discriminator",
            "nullable", "strict");

    /** Validation keywords a grammar cannot enforce: a schema using one is refused. */
    static final Set<String> UNSUPPORTED = Set.of("not", "if", "then", "else", "patternProperties", "propertyNames",
            "dependentRequired", "dependentSchemas", "dependencies", "contains", "minContains", "maxContains",
            "unevaluatedItems", "$dynamicRef", "$recursiveRef", "$recursiveAnchor");

    static final Set<String> OBJECT = Set.of("properties", "required", "additionalProperties", "minProperties",
            "maxProperties", "unevaluatedProperties");
    static final Set<String> ARRAY = Set.of("items", "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems");
    static final Set<String> STRING = Set.of("minLength", "maxLength", "pattern", "format");
    static final Set<String> NUMBER = Set.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf");
    static final Set<String> TYPES = Set.of("null", "boolean", "object", "array", "number", "string", "integer");

    private Keywords() {
    }

    static void checkSupported(JsonNode schema, String path) {
        for (Iterator<String> it = schema.fieldNames(); it.hasNext(); ) {
            String keyword = it.next();
            if (UNSUPPORTED.contains(keyword)) {
                throw new UnsupportedSchemaException(keyword, path, "The JSON Schema keyword '" + keyword + "' at '"
                        + (path.isEmpty() ? "/" : path) + "' cannot be enforced by constrained decoding and is not supported.");
            }
        }
    }

    /** True when the schema constrains instances at all (it has a keyword other than annotations). */
    static boolean constrains(JsonNode schema) {
        if (schema.isBoolean()) {
            return !schema.booleanValue();
        }
        for (Iterator<String> it = schema.fieldNames(); it.hasNext(); ) {
            String keyword = it.next();
            if (!ANNOTATIONS.contains(keyword) && (isKnown(keyword))) {
                return true;
            }
        }
        return false;
    }

    static boolean isKnown(String keyword) {
        return OBJECT.contains(keyword) || ARRAY.contains(keyword) || STRING.contains(keyword) || NUMBER.contains(keyword)
                || UNSUPPORTED.contains(keyword) || Set.of("type", "enum", "const", "$ref", "allOf", "anyOf", "oneOf")
                .contains(keyword);
    }

    /** JSON pointer escaping of one reference token. */
    static String token(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }
}
