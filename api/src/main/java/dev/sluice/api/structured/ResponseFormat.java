package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.openai.Json;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The output constraint a request asks for, as a GBNF grammar, from whichever of the fields
 * clients send it in: OpenAI's {@code response_format} ({@code json_object}, {@code json_schema});
 * vLLM's {@code structured_outputs} ({@code json}, {@code regex}, {@code choice}, {@code grammar},
 * {@code json_object}) and its older {@code guided_json}, {@code guided_regex},
 * {@code guided_choice}, {@code guided_grammar}; llama-server's {@code json_schema} and
 * {@code grammar} (GBNF). At most one per request. Compiled here, on the request thread, with
 * bounded cost; every problem is a 400 naming the parameter (and the schema keyword).
 */
public final class ResponseFormat {

    private static final Pattern SCHEMA_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    /** The longest raw grammar ({@code grammar}, {@code guided_grammar}) accepted, in characters. */
    static final int MAX_GRAMMAR_CHARS = 256 * 1024;
    /** Most alternatives of a choice constraint. */
    static final int MAX_CHOICES = 1024;

    private record Constraint(String param, Supplier<String> grammar) {
    }

    private ResponseFormat() {
    }

    /**
     * The grammar the request's output must match, if it asks for one.
     *
     * @throws ApiException 400 for a malformed, unsupported or doubled constraint
     */
    public static Optional<String> grammar(Json json) {
        List<Constraint> found = new ArrayList<>();
        JsonNode format = json.get("response_format");
        if (format != null) {
            responseFormat(format).ifPresent(found::add);
        }
        JsonNode structured = json.get("structured_outputs");
        if (structured != null) {
            if (!structured.isObject()) {
                throw Json.wrongType("structured_outputs", "an object");
            }
            vllm(structured, "structured_outputs.", "", found);
        }
        vllm(json.node(), "", "guided_", found);
        JsonNode schema = json.get("json_schema");
        if (schema != null) {
            found.add(schema(schema, "json_schema"));
        }
        JsonNode grammar = json.get("grammar");
        if (grammar != null) {
            found.add(rawGrammar(grammar, "grammar"));
        }
        if (found.isEmpty()) {
            return Optional.empty();
        }
        if (found.size() > 1) {
            throw ApiException.invalid(found.get(1).param(), "Only one output constraint may be given per request, but '"
                    + found.get(0).param() + "' and '" + found.get(1).param() + "' both constrain the output.");
        }
        if (json.bool("ignore_eos").orElse(false)) {
            throw ApiException.invalid("ignore_eos", "ignore_eos cannot be combined with '" + found.get(0).param()
                    + "': the output ends where the constraint is complete.");
        }
        return Optional.of(found.getFirst().grammar().get());
    }

    private static Optional<Constraint> responseFormat(JsonNode format) {
        JsonNode type = format.get("type");
        if (!format.isObject() || type == null || !type.isTextual()) {
            throw Json.wrongType("response_format", "an object with a 'type'");
        }
        return switch (type.textValue()) {
            case "text" -> Optional.empty();
            case "json_object" -> Optional.of(new Constraint("response_format", JsonSchemaGrammar::jsonObjectGrammar));
            case "json_schema" -> {
                JsonNode spec = format.get("json_schema");
                if (spec == null || !spec.isObject()) {
                    throw ApiException.invalid("response_format.json_schema",
                            "Missing required parameter: 'response_format.json_schema'.");
                }
                JsonNode name = spec.get("name");
                if (name == null || !name.isTextual()) {
                    throw ApiException.invalid("response_format.json_schema.name",
                            "Missing required parameter: 'response_format.json_schema.name'.");
                }
                if (!SCHEMA_NAME.matcher(name.textValue()).matches()) {
                    throw ApiException.invalid("response_format.json_schema.name", "Invalid 'response_format.json_schema.name': "
                            + "string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$' "
                            + "of at most 64 characters.");
                }
                JsonNode strict = spec.get("strict");
                if (strict != null && !strict.isNull() && !strict.isBoolean()) {
                    throw Json.wrongType("response_format.json_schema.strict", "a boolean");
                }
                JsonNode description = spec.get("description");
                if (description != null && !description.isNull() && !description.isTextual()) {
                    throw Json.wrongType("response_format.json_schema.description", "a string");
                }
                JsonNode schema = spec.get("schema");
                // OpenAI: without a schema the model may answer any JSON
                yield Optional.of(schema == null || schema.isNull()
                        ? new Constraint("response_format.json_schema", () -> JsonSchemaGrammar.compile(
                        com.fasterxml.jackson.databind.node.BooleanNode.TRUE))
                        : schema(schema, "response_format.json_schema.schema"));
            }
            default -> throw ApiException.invalid("response_format.type", "Invalid value: '" + Json.quote(type.textValue())
                    + "'. Supported values are: 'text', 'json_object' and 'json_schema'.");
        };
    }

    /** vLLM's fields: {@code structured_outputs.x} ({@code prefix} "") or the older top-level {@code guided_x}. */
    private static void vllm(JsonNode node, String paramPrefix, String fieldPrefix, List<Constraint> found) {
        String p = paramPrefix + fieldPrefix;
        JsonNode json = present(node, fieldPrefix + "json");
        if (json != null) {
            found.add(schema(json.isTextual() ? parseSchema(json.textValue(), p + "json") : json, p + "json"));
        }
        JsonNode regex = present(node, fieldPrefix + "regex");
        if (regex != null) {
            if (!regex.isTextual()) {
                throw Json.wrongType(p + "regex", "a string");
            }
            found.add(new Constraint(p + "regex", () -> compiled(p + "regex", () -> RegexGrammar.compile(regex.textValue()))));
        }
        JsonNode choice = present(node, fieldPrefix + "choice");
        if (choice != null) {
            found.add(choice(choice, p + "choice"));
        }
        JsonNode grammar = present(node, fieldPrefix + "grammar");
        if (grammar != null) {
            found.add(rawGrammar(grammar, p + "grammar"));
        }
        JsonNode object = present(node, fieldPrefix + "json_object");
        if (object != null && object.asBoolean(false) && fieldPrefix.isEmpty()) {
            found.add(new Constraint(p + "json_object", JsonSchemaGrammar::jsonObjectGrammar));
        }
        for (String unsupported : new String[]{"whitespace_pattern", "structural_tag"}) {
            if (present(node, fieldPrefix + unsupported) != null) {
                throw ApiException.invalid(p + unsupported, "'" + p + unsupported + "' is not supported by this server.");
            }
        }
    }

    private static JsonNode present(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v;
    }

    private static Constraint schema(JsonNode schema, String param) {
        if (!schema.isObject() && !schema.isBoolean()) {
            throw Json.wrongType(param, "a JSON Schema object");
        }
        return new Constraint(param, () -> compiled(param, () -> JsonSchemaGrammar.compile(schema)));
    }

    private static JsonNode parseSchema(String text, String param) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (Exception e) {
            throw ApiException.invalid(param, "'" + param + "' is not valid JSON.");
        }
    }

    private static Constraint choice(JsonNode choice, String param) {
        if (!choice.isArray() || choice.isEmpty()) {
            throw Json.wrongType(param, "a non-empty array of strings");
        }
        if (choice.size() > MAX_CHOICES) {
            throw ApiException.invalid(param, "'" + param + "' may have at most " + MAX_CHOICES + " items, got " + choice.size() + ".");
        }
        List<String> options = new ArrayList<>();
        for (JsonNode c : choice) {
            if (!c.isTextual() || c.textValue().isEmpty()) {
                throw Json.wrongType(param, "a non-empty array of non-empty strings");
            }
            options.add(Gbnf.literal(c.textValue()));
        }
        String grammar = "root ::= " + String.join(" | ", options) + "\n";
        if (grammar.length() > MAX_GRAMMAR_CHARS) {
            throw ApiException.invalid(param, "'" + param + "' is longer than " + MAX_GRAMMAR_CHARS + " characters in all.");
        }
        return new Constraint(param, () -> grammar);
    }

    private static Constraint rawGrammar(JsonNode grammar, String param) {
        if (!grammar.isTextual() || grammar.textValue().isBlank()) {
            throw Json.wrongType(param, "a non-empty string of GBNF");
        }
        String text = grammar.textValue();
        if (text.length() > MAX_GRAMMAR_CHARS) {
            throw ApiException.invalid(param, "'" + param + "' is longer than " + MAX_GRAMMAR_CHARS + " characters.");
        }
        return new Constraint(param, () -> compiled(param, () -> {
            GbnfCheck.check(text, "root");
            return text;
        }));
    }

    /** Runs a compiler, turning its complaints into 400s about {@code param}. */
    private static String compiled(String param, Supplier<String> compiler) {
        try {
            return compiler.get();
        } catch (UnsupportedSchemaException e) {
            String what = e.keyword().equals("regex") ? "Unsupported regular expression" : "Unsupported schema keyword '"
                    + e.keyword() + "'";
            throw ApiException.invalid(param, what + " in '" + param + "'"
                    + (e.path().isEmpty() ? "" : " at '" + e.path() + "'") + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(param, "Invalid '" + param + "': " + e.getMessage());
        }
    }
}
