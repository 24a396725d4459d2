package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.openai.Json;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.UncheckedIOException;

/** What the Files and Batch endpoints share: JSON answers, the {@code limit} parameter, list cursors. */
final class Replies {

    private Replies() {
    }

    static void send(ServerResponse res, ObjectNode body) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(bytes(body));
    }

    static byte[] bytes(ObjectNode body) {
        try {
            return Json.MAPPER.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code limit} query parameter: 1 to {@code max}, {@code dflt} when absent. */
    static int limit(ServerRequest req, int dflt, int max) {
        String value = req.query().first("limit").orElse(null);
        if (value == null) {
            return dflt;
        }
        try {
            int limit = Integer.parseInt(value.strip());
            if (limit >= 1 && limit <= max) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // the 400 below
        }
        throw ApiException.invalid("limit", "limit must be an integer from 1 to " + max + ", got '" + value + "'.");
    }

    /** A list's {@code first_id} and {@code last_id} (null when empty), as OpenAI's cursor pages carry them. */
    static void listCursors(ObjectNode body, ArrayNode data) {
        if (data.isEmpty()) {
            body.putNull("first_id");
            body.putNull("last_id");
        } else {
            body.put("first_id", data.get(0).get("id").textValue());
            body.put("last_id", data.get(data.size() - 1).get("id").textValue());
        }
    }
}
