package dev.sluice.api.responses;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.openai.Json;
import dev.sluice.api.openai.Responses;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A Responses {@code input}: a string (one user message) or a list of items, validated and
 * normalised (each with its {@code type} and an {@code id}), and conversation items turned into
 * chat messages for the model's template: messages as they are, consecutive assistant text and
 * {@code function_call} items as one assistant turn with {@code tool_calls}, and each
 * {@code function_call_output} as a {@code tool} turn.
 */
final class InputItems {

    /** Most items in one input: each costs template rendering before any token is computed. */
    static final int MAX_ITEMS = 10_000;
    private static final Set<String> ROLES = Set.of("user", "system", "developer", "assistant");

    private InputItems() {
    }

    /** The validated, normalised items of {@code input}. */
    static List<ObjectNode> parse(JsonNode input) {
        if (input == null) {
            throw ApiException.invalid("input", "Missing required parameter: 'input'.");
        }
        if (input.isTextual()) {
            return List.of(message("user", input.textValue()));
        }
        if (!input.isArray()) {
            throw Json.wrongType("input", "a string or an array of input items");
        }
        if (input.size() > MAX_ITEMS) {
            throw ApiException.invalid("input", "'input' may contain at most " + MAX_ITEMS + " items, got " + input.size() + ".");
        }
        List<ObjectNode> out = new ArrayList<>(input.size());
        for (int i = 0; i < input.size(); i++) {
            String where = "input[" + i + "]";
            if (!(input.get(i) instanceof ObjectNode item)) {
                throw Json.wrongType(where, "an object");
            }
            out.add(item(item.deepCopy(), where));
        }
        return List.copyOf(out);
    }

    /** An assistant or user message item in OpenAI's stored shape. */
    static ObjectNode message(String role, String text) {
        ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("type", "message");
        m.put("id", Responses.newId("msg_"));
        m.put("status", "completed");
        m.put("role", role);
        ObjectNode part = m.putArray("content").addObject();
        part.put("type", role.equals("assistant") ? "output_text" : "input_text");
        part.put("text", text);
        return m;
    }

    private static ObjectNode item(ObjectNode item, String where) {
        JsonNode typeNode = item.get("type");
        String type = typeNode == null || typeNode.isNull() ? "message" : typeNode.isTextual() ? typeNode.textValue() : null;
        if (type == null) {
            throw Json.wrongType(where + ".type", "a string");
        }
        switch (type) {
            case "message" -> {
                String role = text(item, "role", where);
                if (!ROLES.contains(role)) {
                    throw ApiException.invalid(where + ".role", "Invalid value: '" + Json.quote(role)
                            + "'. Supported values are: 'user', 'assistant', 'system' and 'developer'.");
                }
                content(item.get("content"), where + ".content");
            }
            case "function_call" -> {
                text(item, "call_id", where);
                text(item, "name", where);
                text(item, "arguments", where);
            }
            case "function_call_output" -> {
                text(item, "call_id", where);
                JsonNode output = item.get("output");
                if (output == null || output.isNull()) {
                    throw ApiException.invalid(where + ".output", "Missing required parameter: '" + where + ".output'.");
                }
                if (!output.isTextual()) {
                    content(output, where + ".output");
                }
            }
            default -> throw ApiException.invalid(where + ".type", "Input items of type '" + Json.quote(type)
                    + "' are not supported by this server. Supported values are: 'message', 'function_call' and "
                    + "'function_call_output'.");
        }
        item.put("type", type);
        if (!item.has("id")) {
            item.put("id", Responses.newId(type.equals("message") ? "msg_" : type.equals("function_call") ? "fc_" : "fco_"));
        }
        return item;
    }

    private static String text(ObjectNode item, String field, String where) {
        JsonNode v = item.get(field);
        if (v == null || v.isNull()) {
            throw ApiException.invalid(where + "." + field, "Missing required parameter: '" + where + "." + field + "'.");
        }
        if (!v.isTextual()) {
            throw Json.wrongType(where + "." + field, "a string");
        }
        return v.textValue();
    }

    /** A message's text: a string, or its text parts joined (images, files and audio are refused). */
    private static String content(JsonNode content, String where) {
        if (content == null || content.isNull()) {
            throw ApiException.invalid(where, "Missing required parameter: '" + where + "'.");
        }
        if (content.isTextual()) {
            return content.textValue();
        }
        if (!content.isArray()) {
            throw Json.wrongType(where, "a string or an array of content parts");
        }
        StringBuilder text = new StringBuilder();
        for (int j = 0; j < content.size(); j++) {
            String at = where + "[" + j + "]";
            JsonNode part = content.get(j);
            JsonNode type = part.get("type");
            if (type == null || !type.isTextual()) {
                throw ApiException.invalid(at + ".type", "Missing required parameter: '" + at + ".type'.");
            }
            switch (type.textValue()) {
                case "input_text", "output_text" -> {
                    JsonNode value = part.get("text");
                    if (value == null || !value.isTextual()) {
                        throw Json.wrongType(at + ".text", "a string");
                    }
                    text.append(value.textValue());
                }
                case "input_image", "input_file", "input_audio" -> throw ApiException.invalid(at + ".type",
                        "Content parts of type '" + type.textValue() + "' are not supported: this server serves text-only models.");
                default -> throw ApiException.invalid(at + ".type", "Invalid value: '" + Json.quote(type.textValue())
                        + "'. Supported values are: 'input_text' and 'output_text'.");
            }
        }
        return text.toString();
    }

    /** Chat messages for a conversation's items (already validated), in order. */
    static ArrayNode toMessages(List<ObjectNode> items, ArrayNode messages) {
        ObjectNode assistant = null; // the open assistant turn that function calls join
        for (ObjectNode item : items) {
            switch (item.get("type").textValue()) {
                case "message" -> {
                    String role = item.get("role").textValue();
                    ObjectNode m = messages.addObject();
                    m.put("role", role);
                    m.put("content", content(item.get("content"), "input"));
                    assistant = role.equals("assistant") ? m : null;
                }
                case "function_call" -> {
                    if (assistant == null) {
                        assistant = messages.addObject();
                        assistant.put("role", "assistant");
                        assistant.putNull("content");
                    }
                    ArrayNode calls = assistant.has("tool_calls") ? (ArrayNode) assistant.get("tool_calls")
                            : assistant.putArray("tool_calls");
                    ObjectNode call = calls.addObject();
                    call.put("id", item.get("call_id").textValue());
                    call.put("type", "function");
                    ObjectNode function = call.putObject("function");
                    function.put("name", item.get("name").textValue());
                    function.put("arguments", item.get("arguments").textValue());
                }
                case "function_call_output" -> {
                    ObjectNode m = messages.addObject();
                    m.put("role", "tool");
                    m.put("tool_call_id", item.get("call_id").textValue());
                    JsonNode output = item.get("output");
                    m.put("content", output.isTextual() ? output.textValue() : content(output, "input"));
                    assistant = null;
                }
                default -> throw new IllegalStateException("unvalidated item type " + item.get("type"));
            }
        }
        return messages;
    }
}
