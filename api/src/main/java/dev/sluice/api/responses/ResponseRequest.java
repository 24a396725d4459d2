package dev.sluice.api.responses;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.openai.Json;

import java.util.List;
import java.util.Map;

/**
 * A validated {@code POST /v1/responses} body and the chat completions body it maps onto: the
 * same sampling, tools ({@code tools[i]} flattened here, nested under {@code function} there),
 * output constraint ({@code text.format} here, {@code response_format} there) and length
 * ({@code max_output_tokens}, {@code max_completion_tokens}). Chat's own validation then runs on
 * that body, and {@link ParamNames} renames the fields its errors name back to these.
 *
 * @param input the request's own items (normalised, with ids)
 */
record ResponseRequest(Json json, String model, String instructions, List<ObjectNode> input, boolean stream,
                       boolean store, String previousResponseId, ObjectNode metadata, ObjectNode textFormat) {

    /** OpenAI's limits on {@code metadata}. */
    static final int MAX_METADATA_KEYS = 16;
    static final int MAX_METADATA_KEY_CHARS = 64;
    static final int MAX_METADATA_VALUE_CHARS = 512;
    /** Sampling fields chat takes under the same names: OpenAI's, and the vLLM extensions chat accepts. */
    private static final List<String> SAME_NAMES = List.of("temperature", "top_p", "parallel_tool_calls", "user",
            "seed", "top_k", "min_p", "repetition_penalty", "presence_penalty", "frequency_penalty");

    static ResponseRequest parse(Json json) {
        Unsupported.check(json);
        String model = json.string("model").orElse(null);
        String instructions = json.string("instructions").orElse(null);
        List<ObjectNode> input = InputItems.parse(json.get("input"));
        boolean stream = json.bool("stream").orElse(false);
        boolean store = json.bool("store").orElse(true);
        String previous = json.string("previous_response_id").orElse(null);
        json.integer("max_output_tokens", 1, Integer.MAX_VALUE);
        return new ResponseRequest(json, model, instructions, input, stream, store, previous, metadata(json),
                textFormat(json));
    }

    private static ObjectNode metadata(Json json) {
        JsonNode node = json.get("metadata");
        if (node == null) {
            return Json.MAPPER.createObjectNode();
        }
        if (!(node instanceof ObjectNode object)) {
            throw Json.wrongType("metadata", "an object");
        }
        if (object.size() > MAX_METADATA_KEYS) {
            throw ApiException.invalid("metadata", "metadata may have at most " + MAX_METADATA_KEYS + " keys, got "
                    + object.size() + ".");
        }
        for (Map.Entry<String, JsonNode> e : object.properties()) {
            if (e.getKey().length() > MAX_METADATA_KEY_CHARS) {
                throw ApiException.invalid("metadata", "metadata keys may be at most " + MAX_METADATA_KEY_CHARS + " characters long.");
            }
            if (!e.getValue().isTextual() || e.getValue().textValue().length() > MAX_METADATA_VALUE_CHARS) {
                throw ApiException.invalid("metadata", "metadata values must be strings of at most "
                        + MAX_METADATA_VALUE_CHARS + " characters.");
            }
        }
        return object;
    }

    /** {@code text.format}: {@code text} (the default), {@code json_object} or {@code json_schema}. */
    private static ObjectNode textFormat(Json json) {
        JsonNode text = json.get("text");
        if (text != null && !text.isObject()) {
            throw Json.wrongType("text", "an object");
        }
        JsonNode format = text == null ? null : text.get("format");
        if (format == null || format.isNull()) {
            ObjectNode plain = Json.MAPPER.createObjectNode();
            plain.put("type", "text");
            return plain;
        }
        if (!(format instanceof ObjectNode object) || !object.path("type").isTextual()) {
            throw Json.wrongType("text.format", "an object with a 'type'");
        }
        String type = object.get("type").textValue();
        if (!List.of("text", "json_object", "json_schema").contains(type)) {
            throw ApiException.invalid("text.format.type", "Invalid value: '" + Json.quote(type)
                    + "'. Supported values are: 'text', 'json_object' and 'json_schema'.");
        }
        return object;
    }

    /**
     * The chat completions body for this request after {@code history} (the items of the
     * conversation {@code previous_response_id} continues): {@code instructions} first as a system
     * message (OpenAI does not carry a previous response's instructions over), then the history,
     * then this input.
     */
    ObjectNode chatBody(List<ObjectNode> history) {
        ObjectNode chat = Json.MAPPER.createObjectNode();
        if (model != null) {
            chat.put("model", model);
        }
        ArrayNode messages = chat.putArray("messages");
        if (instructions != null) {
            ObjectNode system = messages.addObject();
            system.put("role", "system");
            system.put("content", instructions);
        }
        InputItems.toMessages(history, messages);
        InputItems.toMessages(input, messages);
        for (String field : SAME_NAMES) {
            if (json.has(field)) {
                chat.set(field, json.get(field));
            }
        }
        if (json.has("max_output_tokens")) {
            chat.set("max_completion_tokens", json.get("max_output_tokens"));
        }
        if (json.has("tools")) {
            chat.set("tools", tools(json.get("tools")));
        }
        if (json.has("tool_choice")) {
            chat.set("tool_choice", toolChoice(json.get("tool_choice")));
        }
        String type = textFormat.get("type").textValue();
        if (!type.equals("text")) {
            ObjectNode format = chat.putObject("response_format");
            format.put("type", type);
            if (type.equals("json_schema")) {
                ObjectNode schema = textFormat.deepCopy();
                schema.remove("type");
                format.set("json_schema", schema);
            }
        }
        return chat;
    }

    /** Responses' flat function tools as chat's {@code {type, function: {...}}}; hosted tools are refused. */
    private static JsonNode tools(JsonNode tools) {
        if (!tools.isArray()) {
            return tools; // chat's validation names the wrong type
        }
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (int i = 0; i < tools.size(); i++) {
            JsonNode tool = tools.get(i);
            if (!(tool instanceof ObjectNode object)) {
                throw Json.wrongType("tools[" + i + "]", "an object");
            }
            JsonNode type = object.get("type");
            if (type == null || !type.isTextual()) {
                throw ApiException.invalid("tools[" + i + "].type", "Missing required parameter: 'tools[" + i + "].type'.");
            }
            if (!type.textValue().equals("function")) {
                throw Unsupported.builtInTool("tools[" + i + "].type", type.textValue());
            }
            ObjectNode function = object.deepCopy();
            function.remove("type");
            ObjectNode wrapped = out.addObject();
            wrapped.put("type", "function");
            wrapped.set("function", function);
        }
        return out;
    }

    /** {@code {"type": "function", "name": …}} as chat's {@code {"type": "function", "function": {"name": …}}}. */
    private static JsonNode toolChoice(JsonNode choice) {
        if (!(choice instanceof ObjectNode object)) {
            return choice; // "none", "auto", "required", or a wrong type chat's validation names
        }
        JsonNode type = object.get("type");
        if (type == null || !type.isTextual() || !type.textValue().equals("function")) {
            throw ApiException.invalid("tool_choice.type", "tool_choice of type '" + Json.quote(type == null ? "null" : type.asText())
                    + "' is not supported by this server. Supported values are: 'none', 'auto', 'required' and "
                    + "{\"type\": \"function\", \"name\": …}.");
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("type", "function");
        ObjectNode function = out.putObject("function");
        if (object.has("name")) {
            function.set("name", object.get("name"));
        }
        return out;
    }
}
