package dev.sluice.api.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.openai.Json;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A chat request's tool fields, validated with OpenAI's rules: {@code tools},
 * {@code tool_choice}, {@code parallel_tool_calls}, and the legacy {@code functions} /
 * {@code function_call} mapped onto them. Every error is a 400 naming the field.
 *
 * @param parallel        whether more than one call may come back ({@code parallel_tool_calls},
 *                        default true)
 * @param parallelExplicit whether the client set {@code parallel_tool_calls} itself
 * @param legacy          the request used {@code functions}: answer with {@code function_call}
 */
public record ToolRequest(List<ToolDefinition> tools, ToolChoice choice, boolean parallel, boolean parallelExplicit,
                          boolean legacy) {

    /** OpenAI's limit on {@code tools}; it also bounds the grammar a request can build. */
    public static final int MAX_TOOLS = 128;
    /** OpenAI's rule for function names. */
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    public static final ToolRequest NONE = new ToolRequest(List.of(), ToolChoice.NONE, true, false, false);

    /** Whether tools take part in this request at all (offered, and not turned off by {@code none}). */
    public boolean active() {
        return !tools.isEmpty() && choice.mode() != ToolChoice.Mode.NONE;
    }

    public static ToolRequest parse(Json json) {
        boolean legacy = json.has("functions") || json.has("function_call");
        if (legacy && (json.has("tools") || json.has("tool_choice"))) {
            throw ApiException.invalid(json.has("functions") ? "functions" : "function_call",
                    "'functions' and 'function_call' are deprecated in favour of 'tools' and 'tool_choice'; a request "
                            + "may use one pair or the other, not both.");
        }
        List<ToolDefinition> tools = legacy ? functions(json.get("functions")) : tools(json.get("tools"));
        ToolChoice choice = legacy ? functionCall(json.get("function_call"), tools) : toolChoice(json.get("tool_choice"), tools);
        JsonNode parallel = json.get("parallel_tool_calls");
        if (parallel != null && !parallel.isBoolean()) {
            throw Json.wrongType("parallel_tool_calls", "a boolean");
        }
        return new ToolRequest(tools, choice, parallel == null || parallel.booleanValue(), parallel != null, legacy);
    }

    private static List<ToolDefinition> tools(JsonNode node) {
        if (node == null) {
            return List.of();
        }
        if (!node.isArray()) {
            throw Json.wrongType("tools", "an array");
        }
        checkSize(node, "tools");
        List<ToolDefinition> out = new ArrayList<>(node.size());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < node.size(); i++) {
            String where = "tools[" + i + "]";
            JsonNode tool = node.get(i);
            if (!tool.isObject()) {
                throw Json.wrongType(where, "an object");
            }
            JsonNode type = tool.get("type");
            if (type == null || !type.isTextual()) {
                throw ApiException.invalid(where + ".type", "Missing required parameter: '" + where + ".type'.");
            }
            if (!type.textValue().equals("function")) {
                throw ApiException.invalid(where + ".type", "Invalid value: '" + Json.quote(type.textValue())
                        + "'. Supported values are: 'function'.");
            }
            JsonNode function = tool.get("function");
            if (function == null || function.isNull()) {
                throw ApiException.invalid(where + ".function", "Missing required parameter: '" + where + ".function'.");
            }
            out.add(function(function, where + ".function", names));
        }
        return List.copyOf(out);
    }

    private static List<ToolDefinition> functions(JsonNode node) {
        if (node == null) {
            return List.of();
        }
        if (!node.isArray()) {
            throw Json.wrongType("functions", "an array");
        }
        checkSize(node, "functions");
        List<ToolDefinition> out = new ArrayList<>(node.size());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < node.size(); i++) {
            out.add(function(node.get(i), "functions[" + i + "]", names));
        }
        return List.copyOf(out);
    }

    /** An empty list is accepted as no tools (vLLM's and Sluice's earlier behaviour; OpenAI refuses it). */
    private static void checkSize(JsonNode node, String param) {
        if (node.size() > MAX_TOOLS) {
            throw ApiException.invalid(param, "Invalid '" + param + "': array too long. Expected an array with maximum "
                    + "length " + MAX_TOOLS + ", but got an array with length " + node.size() + " instead.");
        }
    }

    private static ToolDefinition function(JsonNode function, String where, Set<String> names) {
        if (!function.isObject()) {
            throw Json.wrongType(where, "an object");
        }
        JsonNode name = function.get("name");
        if (name == null || name.isNull()) {
            throw ApiException.invalid(where + ".name", "Missing required parameter: '" + where + ".name'.");
        }
        if (!name.isTextual()) {
            throw Json.wrongType(where + ".name", "a string");
        }
        if (!NAME.matcher(name.textValue()).matches()) {
            throw ApiException.invalid(where + ".name", "Invalid '" + where + ".name': string does not match pattern. "
                    + "Expected a string of 1 to 64 characters that matches the pattern '^[a-zA-Z0-9_-]+$'.");
        }
        if (!names.add(name.textValue())) {
            throw ApiException.invalid(where + ".name", "Invalid '" + where + ".name': the function '"
                    + name.textValue() + "' is defined more than once.");
        }
        JsonNode description = function.get("description");
        if (description != null && !description.isNull() && !description.isTextual()) {
            throw Json.wrongType(where + ".description", "a string");
        }
        JsonNode parameters = function.get("parameters");
        ObjectNode schema;
        if (parameters == null || parameters.isNull()) {
            schema = Json.MAPPER.createObjectNode();
            schema.put("type", "object");
            schema.putObject("properties");
        } else if (parameters instanceof ObjectNode object) {
            JsonNode type = object.get("type");
            if (type != null && !(type.isTextual() && type.textValue().equals("object"))) {
                throw ApiException.invalid(where + ".parameters", "Invalid schema for function '" + name.textValue()
                        + "': schema must be a JSON Schema of 'type: \"object\"', got 'type: " + Json.quote(type.toString()) + "'.");
            }
            schema = object;
        } else {
            throw ApiException.invalid(where + ".parameters", "Invalid schema for function '" + name.textValue()
                    + "': the parameters must be a JSON Schema object.");
        }
        JsonNode strict = function.get("strict");
        if (strict != null && !strict.isNull() && !strict.isBoolean()) {
            throw Json.wrongType(where + ".strict", "a boolean");
        }
        return new ToolDefinition(name.textValue(), description == null || description.isNull() ? null : description.textValue(),
                schema, strict != null && strict.asBoolean(false));
    }

    private static ToolChoice toolChoice(JsonNode node, List<ToolDefinition> tools) {
        if (node == null) {
            return tools.isEmpty() ? ToolChoice.NONE : ToolChoice.AUTO;
        }
        if (node.isTextual()) {
            ToolChoice choice = switch (node.textValue()) {
                case "none" -> ToolChoice.NONE;
                case "auto" -> ToolChoice.AUTO;
                case "required" -> ToolChoice.REQUIRED;
                default -> throw ApiException.invalid("tool_choice", "Invalid value: '" + Json.quote(node.textValue())
                        + "'. Supported values are: 'none', 'auto' and 'required'.");
            };
            if (tools.isEmpty() && choice == ToolChoice.AUTO) {
                return ToolChoice.NONE;
            }
            if (tools.isEmpty() && choice != ToolChoice.NONE) {
                throw ApiException.invalid("tool_choice", "Invalid value for 'tool_choice': 'tool_choice' is only "
                        + "allowed when 'tools' are specified.");
            }
            return choice;
        }
        if (!node.isObject()) {
            throw Json.wrongType("tool_choice", "a string or an object");
        }
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual() || !type.textValue().equals("function")) {
            throw ApiException.invalid("tool_choice.type", "Invalid value for 'tool_choice.type': expected 'function'.");
        }
        JsonNode function = node.get("function");
        JsonNode name = function == null || !function.isObject() ? null : function.get("name");
        if (name == null || !name.isTextual()) {
            throw ApiException.invalid("tool_choice.function.name", "Missing required parameter: 'tool_choice.function.name'.");
        }
        return named(name.textValue(), tools, "tool_choice");
    }

    private static ToolChoice functionCall(JsonNode node, List<ToolDefinition> tools) {
        if (node == null) {
            return tools.isEmpty() ? ToolChoice.NONE : ToolChoice.AUTO;
        }
        if (node.isTextual()) {
            return switch (node.textValue()) {
                case "none" -> ToolChoice.NONE;
                case "auto" -> tools.isEmpty() ? ToolChoice.NONE : ToolChoice.AUTO;
                default -> throw ApiException.invalid("function_call", "Invalid value: '" + Json.quote(node.textValue())
                        + "'. Supported values are: 'none' and 'auto', or an object naming a function.");
            };
        }
        JsonNode name = node.isObject() ? node.get("name") : null;
        if (name == null || !name.isTextual()) {
            throw Json.wrongType("function_call", "'none', 'auto' or an object with a 'name'");
        }
        return named(name.textValue(), tools, "function_call");
    }

    private static ToolChoice named(String name, List<ToolDefinition> tools, String param) {
        if (tools.stream().noneMatch(t -> t.name().equals(name))) {
            throw ApiException.invalid(param, "Invalid value for '" + param + "': function '" + Json.quote(name)
                    + "' is not one of the " + (param.equals("tool_choice") ? "tools" : "functions") + " given.");
        }
        return ToolChoice.named(name);
    }
}
