package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.openai.Json;

import java.io.IOException;
import java.sql.ResultSet;
import java.sql.SQLException;

/** A batch row as OpenAI's batch object, with Sluice's engine time and cost in its usage. */
final class BatchJson {

    /** The columns {@link #of} reads. */
    static final String COLUMNS = "id, status, endpoint, input_file_id, completion_window, metadata, created_at,"
            + " in_progress_at, finalizing_at, completed_at, failed_at, cancelling_at, cancelled_at, expires_at, expired_at,"
            + " output_file_id, error_file_id, errors, total, completed, failed, prompt_tokens, cached_tokens,"
            + " completion_tokens, engine_nanos, model";

    private BatchJson() {
    }

    /** {@code costPerHour}: the machine's price (--cost-per-hour), 0 when not given. */
    static ObjectNode of(ResultSet rs, double costPerHour) throws SQLException {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode o = f.objectNode();
        o.put("id", rs.getString("id"));
        o.put("object", "batch");
        o.put("endpoint", rs.getString("endpoint"));
        o.set("errors", parse(rs.getString("errors")));
        o.put("input_file_id", rs.getString("input_file_id"));
        o.put("model", rs.getString("model")); // the lines' model once validated; null before, or if they differ
        o.put("completion_window", rs.getString("completion_window"));
        o.put("status", rs.getString("status"));
        o.put("output_file_id", rs.getString("output_file_id"));
        o.put("error_file_id", rs.getString("error_file_id"));
        for (String t : new String[] {"created_at", "in_progress_at", "expires_at", "finalizing_at", "completed_at", "failed_at",
                "expired_at", "cancelling_at", "cancelled_at"}) {
            long v = rs.getLong(t);
            if (rs.wasNull()) {
                o.putNull(t);
            } else {
                o.put(t, v);
            }
        }
        ObjectNode counts = o.putObject("request_counts");
        counts.put("total", rs.getInt("total"));
        counts.put("completed", rs.getInt("completed"));
        counts.put("failed", rs.getInt("failed"));
        o.set("metadata", parse(rs.getString("metadata")));
        long prompt = rs.getLong("prompt_tokens");
        long completion = rs.getLong("completion_tokens");
        ObjectNode usage = o.putObject("usage");
        usage.put("input_tokens", prompt);
        usage.putObject("input_tokens_details").put("cached_tokens", rs.getLong("cached_tokens"));
        usage.put("output_tokens", completion);
        usage.putObject("output_tokens_details").put("reasoning_tokens", 0);
        usage.put("total_tokens", prompt + completion);
        // Sluice's: the engine time its lines took (each step's time shared by tokens) and, with
        // --cost-per-hour, what that time cost, in all and per million (prompt + output) tokens.
        double engineSeconds = rs.getLong("engine_nanos") / 1e9;
        usage.put("engine_seconds", engineSeconds);
        if (costPerHour > 0) {
            double cost = engineSeconds * costPerHour / 3600;
            usage.put("cost", cost);
            if (prompt + completion > 0) {
                usage.put("cost_per_million_tokens", cost * 1e6 / (prompt + completion));
            } else {
                usage.putNull("cost_per_million_tokens");
            }
        }
        return o;
    }

    private static JsonNode parse(String json) {
        if (json == null) {
            return JsonNodeFactory.instance.nullNode();
        }
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            return JsonNodeFactory.instance.nullNode();
        }
    }
}
