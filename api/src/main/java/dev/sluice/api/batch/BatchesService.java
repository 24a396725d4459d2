package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.Bodies;
import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.http.ErrorHandlers;
import dev.sluice.api.openai.BatchLines;
import dev.sluice.api.openai.Json;
import dev.sluice.api.openai.Responses;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's Batch API: {@code POST /v1/batches}, {@code GET /v1/batches} (newest first, with
 * {@code after} and {@code limit}), {@code GET /v1/batches/{id}} and
 * {@code POST /v1/batches/{id}/cancel}. Creating a batch checks its fields and its input file's
 * existence and purpose; the file's lines are checked by the {@link BatchRunner} (status
 * {@code validating}), as OpenAI does.
 */
final class BatchesService implements HttpService {

    private static final long MAX_BODY_BYTES = 1024 * 1024;

    private final BatchApi api;
    private final ConnectionGuard guard;

    BatchesService(BatchApi api, ConnectionGuard guard) {
        this.api = api;
        this.guard = guard;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/v1/batches", this::create)
                .get("/v1/batches", this::list)
                .get("/v1/batches/{id}", (req, res) -> Replies.send(res, batch(req.path().pathParameters().get("id"))))
                .post("/v1/batches/{id}/cancel", this::cancel)
                .any("/v1/batches", ErrorHandlers.methodNotAllowed("GET, POST"))
                .any("/v1/batches/{id}", ErrorHandlers.methodNotAllowed("GET"))
                .any("/v1/batches/{id}/cancel", ErrorHandlers.methodNotAllowed("POST"));
    }

    private void create(ServerRequest req, ServerResponse res) throws SQLException {
        Json json = Bodies.json(req, MAX_BODY_BYTES, guard);
        String inputFileId = json.string("input_file_id")
                .orElseThrow(() -> ApiException.invalid("input_file_id", "Missing required parameter: 'input_file_id'."));
        String endpoint = json.string("endpoint")
                .orElseThrow(() -> ApiException.invalid("endpoint", "Missing required parameter: 'endpoint'."));
        if (!BatchLines.supports(endpoint)) {
            throw ApiException.invalid("endpoint", "Invalid value for 'endpoint': '" + endpoint
                    + "'. Supported values are: '/v1/chat/completions' and '/v1/completions'.", "invalid_value");
        }
        String window = json.string("completion_window")
                .orElseThrow(() -> ApiException.invalid("completion_window", "Missing required parameter: 'completion_window'."));
        if (!window.equals("24h")) {
            throw ApiException.invalid("completion_window", "Invalid value for 'completion_window': '" + window
                    + "'. Supported values are: '24h'.", "invalid_value");
        }
        String metadata = metadata(json.get("metadata"));
        Storage storage = api.storage();
        FileStore.FileRecord input = storage.files().get(inputFileId)
                .orElseThrow(() -> ApiException.notFound("No such File object: " + inputFileId, "input_file_id", null));
        if (!input.purpose().equals("batch")) {
            throw ApiException.invalid("input_file_id", "File " + inputFileId + " has purpose '" + input.purpose()
                    + "'; a batch's input file must have purpose 'batch'.", "invalid_value");
        }
        String id = Responses.newId("batch_");
        storage.batches().create(id, endpoint, inputFileId, window, metadata,
                BatchStore.now() + Duration.ofHours(24).toSeconds());
        api.changed();
        Replies.send(res, batch(id));
    }

    /** OpenAI's metadata: up to 16 string pairs, keys up to 64 characters, values up to 512. */
    private static String metadata(JsonNode node) {
        if (node == null) {
            return null;
        }
        if (!node.isObject()) {
            throw ApiException.invalid("metadata", "metadata must be an object of string keys and values.");
        }
        if (node.size() > 16) {
            throw ApiException.invalid("metadata", "metadata may have at most 16 keys, got " + node.size() + ".");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().length() > 64 || !e.getValue().isTextual() || e.getValue().textValue().length() > 512) {
                throw ApiException.invalid("metadata", "metadata keys are strings of at most 64 characters and values"
                        + " strings of at most 512 ('" + e.getKey() + "' is not).");
            }
        }
        return node.toString();
    }

    private ObjectNode batch(String id) throws SQLException {
        return api.storage().batches().json(id)
                .orElseThrow(() -> ApiException.notFound("No such Batch object: " + id, "id", null));
    }

    private void list(ServerRequest req, ServerResponse res) throws SQLException {
        int limit = Replies.limit(req, 20, 100);
        List<ObjectNode> batches = api.storage().batches().list(req.query().first("after").orElse(null), limit);
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("object", "list");
        ArrayNode data = body.putArray("data");
        batches.stream().limit(limit).forEach(data::add);
        Replies.listCursors(body, data);
        body.put("has_more", batches.size() > limit);
        Replies.send(res, body);
    }

    private void cancel(ServerRequest req, ServerResponse res) throws SQLException {
        String id = req.path().pathParameters().get("id");
        String before = api.storage().batches().requestCancel(id);
        if (before == null) {
            throw ApiException.notFound("No such Batch object: " + id, "id", null);
        }
        if (!before.equals("validating") && !before.equals("in_progress") && !before.equals("cancelling")) {
            throw new ApiException(Status.CONFLICT_409, "invalid_request_error",
                    "Cannot cancel a batch with status '" + before + "'.", null, null);
        }
        api.changed();
        Replies.send(res, batch(id));
    }
}
