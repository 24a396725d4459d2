package dev.sluice.api.responses;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.openai.Json;
import dev.sluice.scheduler.RequestUsage;

import java.util.List;

/**
 * The {@code response} object, field for field as OpenAI returns it: identity, status, output,
 * usage, and the request's parameters echoed back (their defaults where the client left them out).
 */
final class ResponseObject {

    private final String id;
    private final long createdAt;
    private final String model;
    private final ResponseRequest request;

    ResponseObject(String id, String model, ResponseRequest request) {
        this.id = id;
        this.createdAt = System.currentTimeMillis() / 1000;
        this.model = model;
        this.request = request;
    }

    String id() {
        return id;
    }

    /**
     * The object in a state: {@code in_progress} (no usage yet), {@code completed},
     * {@code incomplete} (with why), {@code cancelled} or {@code failed} (with the error).
     */
    ObjectNode render(String status, List<ObjectNode> output, List<RequestUsage> usage, String incompleteReason,
                      String error) {
        Json json = request.json();
        ObjectNode r = Json.MAPPER.createObjectNode();
        r.put("id", id);
        r.put("object", "response");
        r.put("created_at", createdAt);
        r.put("status", status);
        r.put("background", false);
        if (error == null) {
            r.putNull("error");
        } else {
            ObjectNode e = r.putObject("error");
            e.put("code", "server_error");
            e.put("message", error);
        }
        if (incompleteReason == null) {
            r.putNull("incomplete_details");
        } else {
            r.putObject("incomplete_details").put("reason", incompleteReason);
        }
        echo(r, "instructions", json.get("instructions"));
        echo(r, "max_output_tokens", json.get("max_output_tokens"));
        r.putNull("max_tool_calls");
        r.put("model", model);
        r.putArray("output").addAll(output);
        r.put("parallel_tool_calls", json.bool("parallel_tool_calls").orElse(true));
        echo(r, "previous_response_id", json.get("previous_response_id"));
        ObjectNode reasoning = r.putObject("reasoning");
        reasoning.putNull("effort");
        reasoning.putNull("summary");
        r.put("service_tier", "default");
        r.put("store", request.store());
        r.put("temperature", json.number("temperature", 0, 2).orElse(1.0));
        r.putObject("text").set("format", request.textFormat());
        JsonNode toolChoice = json.get("tool_choice");
        if (toolChoice == null) {
            r.put("tool_choice", "auto");
        } else {
            r.set("tool_choice", toolChoice);
        }
        JsonNode tools = json.get("tools");
        if (tools == null) {
            r.putArray("tools");
        } else {
            r.set("tools", tools);
        }
        r.put("top_logprobs", 0);
        r.put("top_p", json.number("top_p", 0, 1).orElse(1.0));
        r.put("truncation", "disabled");
        if (usage == null) {
            r.putNull("usage");
        } else {
            r.set("usage", usage(usage));
        }
        echo(r, "user", json.get("user"));
        r.set("metadata", request.metadata());
        return r;
    }

    private static void echo(ObjectNode r, String field, JsonNode value) {
        if (value == null) {
            r.putNull(field);
        } else {
            r.set(field, value);
        }
    }

    /** Responses' usage: input and output tokens, with the input's tokens served from the prefix cache. */
    static ObjectNode usage(List<RequestUsage> usages) {
        int input = 0;
        int output = 0;
        int cached = 0;
        for (RequestUsage u : usages) {
            input += u.promptTokens();
            output += u.completionTokens();
            cached += u.cachedPromptTokens();
        }
        ObjectNode u = Json.MAPPER.createObjectNode();
        u.put("input_tokens", input);
        u.putObject("input_tokens_details").put("cached_tokens", cached);
        u.put("output_tokens", output);
        u.putObject("output_tokens_details").put("reasoning_tokens", 0);
        u.put("total_tokens", input + output);
        return u;
    }
}
