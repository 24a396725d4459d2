package dev.sluice.api.responses;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.openai.Json;

import java.util.Set;

/**
 * The Responses API's fields this server cannot honour, each refused with a 400 naming it rather
 * than silently ignored: background runs, hosted (built-in) tools, reasoning effort, automatic
 * truncation, stored prompts and conversations, extra output ({@code include},
 * {@code top_logprobs}) and {@code max_tool_calls}. Non-text input parts are refused where items
 * are read ({@link InputItems}).
 */
final class Unsupported {

    /** {@code include} values that ask for nothing this server produces (no reasoning items): accepted, as Codex sends them. */
    private static final Set<String> HARMLESS_INCLUDES = Set.of("reasoning.encrypted_content");

    private Unsupported() {
    }

    static void check(Json json) {
        if (json.bool("background").orElse(false)) {
            throw ApiException.invalid("background", "background: true is not supported by this server; "
                    + "send the request without it (stream it to follow it, POST /v1/responses/{id}/cancel to stop it).");
        }
        for (String field : new String[] {"conversation", "prompt", "max_tool_calls"}) {
            if (json.has(field)) {
                throw ApiException.invalid(field, "'" + field + "' is not supported by this server.");
            }
        }
        JsonNode reasoning = json.get("reasoning");
        if (reasoning != null) {
            if (!reasoning.isObject()) {
                throw Json.wrongType("reasoning", "an object");
            }
            JsonNode effort = reasoning.get("effort");
            if (effort != null && !effort.isNull() && !(effort.isTextual() && effort.textValue().equals("none"))) {
                throw ApiException.invalid("reasoning.effort", "reasoning effort '" + Json.quote(effort.asText())
                        + "' is not supported by this server: it serves its models as they are; leave 'reasoning' "
                        + "out or set its effort to 'none'.");
            }
        }
        json.string("truncation").ifPresent(t -> {
            if (!t.equals("disabled")) {
                throw ApiException.invalid("truncation", "Invalid value: '" + Json.quote(t) + "'. Supported values are: "
                        + "'disabled' (this server does not drop conversation items; a too long input is a 400).");
            }
        });
        JsonNode include = json.get("include");
        if (include != null) {
            if (!include.isArray()) {
                throw Json.wrongType("include", "an array of strings");
            }
            for (JsonNode item : include) {
                if (!item.isTextual() || !HARMLESS_INCLUDES.contains(item.textValue())) {
                    throw ApiException.invalid("include", "include value '" + Json.quote(item.asText())
                            + "' is not supported by this server.");
                }
            }
        }
        if (json.integer("top_logprobs", 0, 20).orElse(0) > 0) {
            throw ApiException.invalid("top_logprobs", "top_logprobs is not supported by /v1/responses on this server; "
                    + "/v1/chat/completions returns logprobs.");
        }
    }

    /** A hosted tool ({@code web_search}, {@code file_search}, {@code computer_use_preview}, …) in {@code tools[i]}. */
    static ApiException builtInTool(String where, String type) {
        return ApiException.invalid(where, "Tool type '" + Json.quote(type) + "' is not supported by this server: "
                + "it runs no hosted tools. Supported values are: 'function'.");
    }
}
