package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.tools.ToolMessages;
import dev.sluice.engine.chat.ChatMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/** A validated {@code POST /v1/chat/completions} body. */
public record ChatRequest(String model, List<ChatMessage> messages, OptionalInt maxTokens, SamplingOptions options,
                          boolean stream, boolean includeUsage) {

    /** Most messages in one request: each costs template rendering before any token is computed. */
    static final int MAX_MESSAGES = 10_000;

    public static ChatRequest parse(Json json, int vocabSize, RequestLimits limits) {
        String model = json.string("model").orElse(null);
        List<ChatMessage> messages = messages(json);

        OptionalInt maxTokens = json.integer("max_completion_tokens", 1, Integer.MAX_VALUE);
        if (maxTokens.isEmpty()) {
            maxTokens = json.integer("max_tokens", 1, Integer.MAX_VALUE);
        }
        boolean logprobs = json.bool("logprobs").orElse(false);
        OptionalInt top = json.integer("top_logprobs", 0, 20);
        if (top.isPresent() && !logprobs) {
            throw ApiException.invalid("top_logprobs", "logprobs must be set to true if top_logprobs is used.");
        }
        SamplingOptions options = SamplingOptions.parse(json, vocabSize, logprobs, top.orElse(0), limits);
        boolean stream = json.bool("stream").orElse(false);
        return new ChatRequest(model, messages, maxTokens, options, stream, includeUsage(json, stream));
    }

    static boolean includeUsage(Json json, boolean stream) {
        JsonNode options = json.get("stream_options");
        if (options == null) {
            return false;
        }
        if (!stream) {
            throw ApiException.invalid("stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
        }
        if (!options.isObject()) {
            throw Json.wrongType("stream_options", "an object");
        }
        JsonNode include = options.get("include_usage");
        if (include != null && !include.isNull() && !include.isBoolean()) {
            throw Json.wrongType("stream_options.include_usage", "a boolean");
        }
        return include != null && include.asBoolean(false);
    }

    /** The validated {@code messages} array (also what {@code /tokenize} takes). */
    public static List<ChatMessage> messages(Json json) {
        JsonNode node = json.get("messages");
        if (node == null) {
            throw ApiException.invalid("messages", "Missing required parameter: 'messages'.");
        }
        if (!node.isArray()) {
            throw Json.wrongType("messages", "an array");
        }
        if (node.isEmpty()) {
            throw ApiException.invalid("messages", "'messages' must contain at least one message.");
        }
        if (node.size() > MAX_MESSAGES) {
            throw ApiException.invalid("messages", "'messages' may contain at most " + MAX_MESSAGES + " messages, got "
                    + node.size() + ".");
        }
        List<ChatMessage> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) {
                throw Json.wrongType(where, "an object");
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual()) {
                throw ApiException.invalid(where + ".role", "Missing required parameter: '" + where + ".role'.");
            }
            if (!ChatMessage.ROLES.contains(role.textValue()) && !ToolMessages.isToolRole(role.textValue())) {
                throw ApiException.invalid(where + ".role", "Invalid value: '" + Json.quote(role.textValue()) + "'. Supported values are: "
                        + "'system', 'developer', 'user', 'assistant', 'tool' and 'function'.");
            }
            out.add(ToolMessages.message(m, where, role.textValue(), content(m.get("content"), where + ".content")));
        }
        return out;
    }

    /** A string, or an array of text parts joined in order (what HF templates see as one string). */
    private static String content(JsonNode content, String where) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.textValue();
        }
        if (!content.isArray()) {
            throw Json.wrongType(where, "a string or an array of content parts");
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < content.size(); i++) {
            JsonNode part = content.get(i);
            JsonNode type = part.get("type");
            if (type == null || !type.isTextual()) {
                throw ApiException.invalid(where + "[" + i + "].type", "Missing required parameter: '" + where + "[" + i + "].type'.");
            }
            if (!type.textValue().equals("text")) {
                throw ApiException.invalid(where + "[" + i + "].type", "Content parts of type '" + Json.quote(type.textValue())
                        + "' are not supported: this server serves text-only models.");
            }
            JsonNode value = part.get("text");
            if (value == null || !value.isTextual()) {
                throw Json.wrongType(where + "[" + i + "].text", "a string");
            }
            text.append(value.textValue());
        }
        return text.toString();
    }

}
