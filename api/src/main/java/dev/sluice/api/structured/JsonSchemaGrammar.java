package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * JSON Schema (draft 4 to 2020-12) to a GBNF grammar for llama.cpp's grammar sampler, whose
 * language is JSON that the schema accepts.
 *
 * <p>What is enforced: local {@code $ref} (into {@code $defs}, {@code definitions} or any JSON
 * pointer, recursive too), {@code allOf} (merged), {@code anyOf}, {@code oneOf} (when its branches
 * provably exclude each other), {@code enum}, {@code const}, {@code type} (also arrays of types and
 * {@code null}), {@code properties}, {@code required}, {@code additionalProperties},
 * {@code items}, {@code prefixItems}, {@code additionalItems}, {@code minItems}, {@code maxItems},
 * {@code minLength}, {@code maxLength}, {@code pattern}, {@code format} (date, time, date-time,
 * uuid, email, uri, hostname, ipv4), {@code minimum}, {@code maximum}, {@code exclusiveMinimum},
 * {@code exclusiveMaximum}. Annotations and unknown keywords are ignored, as JSON Schema says.
 * A validation keyword the grammar cannot enforce, or a use of one it cannot, throws
 * {@link UnsupportedSchemaException} naming it; a schema that is not valid (or that nothing
 * satisfies) throws {@link InvalidSchemaException}. The output is always a subset of what the
 * schema allows: property order is the declared one, white space and number sizes are bounded,
 * undeclared keys appear only where {@code additionalProperties} asks for them.
 *
 * <p>The grammar's size is bounded ({@link Gbnf#MAX_EXPANSION}, {@link Gbnf#MAX_CHARS}), so what
 * llama.cpp builds from it on the engine thread is small; compiling costs time linear in the
 * schema and that bound.
 */
public final class JsonSchemaGrammar {

    private JsonSchemaGrammar() {
    }

    /** A complete grammar whose start rule {@code root} matches one JSON value the schema accepts. */
    public static String compile(JsonNode schema) {
        return compile(schema, "root");
    }

    /**
     * The rules for the schema's values, named so they can be embedded in a larger grammar: the
     * value rule is {@code startRule}, every other rule name starts with {@code startRule + "-"},
     * and no {@code root} rule is defined unless {@code startRule} is {@code root}. The value has
     * no white space around it.
     *
     * @param startRule letters, digits and {@code -}
     */
    public static String compile(JsonNode schema, String startRule) {
        if (schema == null) {
            throw new InvalidSchemaException("", "The schema is missing.");
        }
        return new SchemaCompiler(schema, startRule).compileRoot();
    }

    /** A grammar for any JSON object ({@code response_format: {"type": "json_object"}}). */
    public static String jsonObjectGrammar() {
        Gbnf g = new Gbnf("root");
        g.define("root", JsonRules.object(g));
        return g.render();
    }
}
