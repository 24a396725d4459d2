package dev.sluice.api.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.openai.Json;
import dev.sluice.engine.chat.ChatMessage;

import java.util.ArrayList;
import java.util.List;

/**
 * The tool parts of conversation messages: an assistant turn's {@code tool_calls} (or legacy
 * {@code function_call}), a {@code tool} turn's {@code tool_call_id}, and the legacy
 * {@code function} role (a result named by its function), validated as OpenAI validates them.
 */
public final class ToolMessages {

    /** Most calls in one assistant turn: each is rendered into the prompt. */
    static final int MAX_CALLS = 128;

    private ToolMessages() {
    }

    /** Whether {@code role} is one only tool use brings (the legacy {@code function}). */
    public static boolean isToolRole(String role) {
        return role.equals("function");
    }

    /**
     * One message; {@code content} is its text as the caller read it (empty when null).
     *
     * @param m     the message object
     * @param where {@code messages[i]}, for errors
     */
    public static ChatMessage message(JsonNode m, String where, String role, String content) {
        return switch (role) {
            case "assistant" -> new ChatMessage(role, content, calls(m, where), null, null);
            case "tool" -> {
                JsonNode id = m.get("tool_call_id");
                if (id == null || id.isNull()) {
                    throw ApiException.invalid(where + ".tool_call_id", "Missing required parameter: '" + where
                            + ".tool_call_id'.");
                }
                if (!id.isTextual()) {
                    throw Json.wrongType(where + ".tool_call_id", "a string");
                }
                yield new ChatMessage("tool", content, List.of(), id.textValue(), optionalName(m, where));
            }
            case "function" -> {
                String name = optionalName(m, where);
                if (name == null) {
                    throw ApiException.invalid(where + ".name", "Missing required parameter: '" + where + ".name'.");
                }
                yield new ChatMessage("tool", content, List.of(), null, name);
            }
            default -> new ChatMessage(role, content);
        };
    }

    private static String optionalName(JsonNode m, String where) {
        JsonNode name = m.get("name");
        if (name == null || name.isNull()) {
            return null;
        }
        if (!name.isTextual()) {
            throw Json.wrongType(where + ".name", "a string");
        }
        return name.textValue();
    }

    private static List<ChatMessage.ToolCall> calls(JsonNode m, String where) {
        JsonNode legacy = m.get("function_call");
        JsonNode calls = m.get("tool_calls");
        List<ChatMessage.ToolCall> out = new ArrayList<>();
        if (calls != null && !calls.isNull()) {
            if (!calls.isArray()) {
                throw Json.wrongType(where + ".tool_calls", "an array");
            }
            if (calls.size() > MAX_CALLS) {
                throw ApiException.invalid(where + ".tool_calls", "'" + where + ".tool_calls' may contain at most "
                        + MAX_CALLS + " calls, got " + calls.size() + ".");
            }
            for (int i = 0; i < calls.size(); i++) {
                String at = where + ".tool_calls[" + i + "]";
                JsonNode call = calls.get(i);
                if (!call.isObject()) {
                    throw Json.wrongType(at, "an object");
                }
                JsonNode type = call.get("type");
                if (type != null && !type.isNull() && !(type.isTextual() && type.textValue().equals("function"))) {
                    throw ApiException.invalid(at + ".type", "Invalid value for '" + at + ".type': expected 'function'.");
                }
                JsonNode id = call.get("id");
                if (id == null || !id.isTextual()) {
                    throw ApiException.invalid(at + ".id", "Missing required parameter: '" + at + ".id'.");
                }
                out.add(function(call.get("function"), at + ".function", id.textValue()));
            }
        }
        if (legacy != null && !legacy.isNull()) {
            out.add(function(legacy, where + ".function_call", null));
        }
        return out;
    }

    private static ChatMessage.ToolCall function(JsonNode function, String where, String id) {
        if (function == null || !function.isObject()) {
            throw ApiException.invalid(where, "Missing required parameter: '" + where + "'.");
        }
        JsonNode name = function.get("name");
        if (name == null || !name.isTextual()) {
            throw ApiException.invalid(where + ".name", "Missing required parameter: '" + where + ".name'.");
        }
        JsonNode arguments = function.get("arguments");
        if (arguments == null || !arguments.isTextual()) {
            throw ApiException.invalid(where + ".arguments", "Missing required parameter: '" + where
                    + ".arguments' (a string of JSON).");
        }
        return new ChatMessage.ToolCall(id, name.textValue(), arguments.textValue(), argumentsObject(arguments.textValue()));
    }

    /** The arguments as template values when they are a JSON object (what templates' {@code tojson} expects), else null. */
    static Object argumentsObject(String arguments) {
        try {
            JsonNode node = Json.MAPPER.readTree(arguments);
            return node != null && node.isObject() ? TemplateValues.of(node) : null;
        } catch (JsonProcessingException e) {
            return null; // the model wrote something that is not JSON; it is rendered as the string it is
        }
    }
}
