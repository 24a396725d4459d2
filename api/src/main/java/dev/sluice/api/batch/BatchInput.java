package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.openai.BatchLines;
import dev.sluice.api.openai.Json;
import dev.sluice.api.openai.Responses;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A batch's input file checked line by line before anything runs, as OpenAI's format wants it:
 * each non-blank line a JSON object with a unique string {@code custom_id}, {@code method}
 * {@code POST}, {@code url} equal to the batch's endpoint and an object {@code body}. A bad line
 * becomes an error-file line naming its line number (1-based, counting blank lines); the body's
 * own fields are checked when the line runs, exactly as an HTTP request's are.
 */
final class BatchInput {

    /** OpenAI's limit on requests in one batch. */
    static final int MAX_LINES = 50_000;

    /**
     * The checked input: lines to run, error-file lines ({@code {line, custom_id, result}}) for the
     * rest, and the model the lines name (null when they name none or several).
     */
    record Checked(List<LineStore.Line> valid, List<String[]> invalid, String model) {
    }

    private BatchInput() {
    }

    /** Checks {@code file}'s lines; {@code endpoint} null: each line's url may be either endpoint (offline). */
    static Checked check(Path file, String endpoint) throws IOException {
        List<LineStore.Line> valid = new ArrayList<>();
        List<String[]> invalid = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Set<String> models = new HashSet<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int number = 0;
            for (String text; (text = in.readLine()) != null; ) {
                number++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = Json.MAPPER.readTree(text);
                } catch (IOException e) {
                    node = null;
                }
                String customId = node != null && node.path("custom_id").isTextual() ? node.get("custom_id").textValue() : null;
                String problem;
                String param = null;
                if (!(node instanceof ObjectNode)) {
                    problem = "is not a JSON object";
                } else if (customId == null || customId.isEmpty()) {
                    problem = "has no custom_id (a non-empty string)";
                    param = "custom_id";
                } else if (!ids.add(customId)) {
                    problem = "repeats custom_id '" + customId + "' (each must be unique in the batch)";
                    param = "custom_id";
                    customId = null; // the first line with it keeps it
                } else if (!"POST".equals(node.path("method").asText(null))) {
                    problem = "has method " + node.path("method") + "; it must be \"POST\"";
                    param = "method";
                } else if (endpoint != null && !endpoint.equals(node.path("url").asText(null))) {
                    problem = "has url " + node.path("url") + "; it must be the batch's endpoint \"" + endpoint + "\"";
                    param = "url";
                } else if (endpoint == null && !BatchLines.supports(node.path("url").asText(null))) {
                    problem = "has url " + node.path("url") + "; it must be \"/v1/chat/completions\" or \"/v1/completions\"";
                    param = "url";
                } else if (!node.path("body").isObject()) {
                    problem = "has no body (a JSON object)";
                    param = "body";
                } else if (valid.size() + invalid.size() >= MAX_LINES) {
                    problem = "is past the limit of " + MAX_LINES + " requests per batch";
                } else {
                    valid.add(new LineStore.Line(number, customId, node.get("url").textValue(), node.get("body").toString()));
                    JsonNode model = node.get("body").get("model");
                    models.add(model != null && model.isTextual() ? model.textValue() : "");
                    continue;
                }
                invalid.add(new String[] {Integer.toString(number), customId,
                        errorLine(customId, "invalid_request", "Line " + number + " " + problem + ".", param, number).toString()});
            }
        }
        String model = models.size() == 1 && !models.contains("") ? models.iterator().next() : null;
        return new Checked(valid, invalid, model);
    }

    /** An error-file line for a request that never ran: {@code response} null, {@code error} saying why. */
    static ObjectNode errorLine(String customId, String code, String message, String param, Integer line) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("id", Responses.newId("batch_req_"));
        o.put("custom_id", customId);
        o.putNull("response");
        ObjectNode e = o.putObject("error");
        e.put("code", code);
        e.put("message", message);
        if (param != null) {
            e.put("param", param);
        }
        if (line != null) {
            e.put("line", line);
        }
        return o;
    }
}
