package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.openai.Json;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Batches and their lines in the database. A line's result is recorded in one transaction with
 * the batch's counters, and only while the line is still waiting ({@code state = 0}): a line is
 * answered at most once, whatever retries or restarts happen, and a finished line is never run
 * again. The output and error files are assembled from the lines when the batch finishes.
 */
final class BatchStore {

    /** Line states. */
    static final int WAITING = 0;
    static final int ANSWERED = 1;
    static final int FAILED = 2;

    /** What the runner needs of a batch. */
    record Batch(String id, String status, String endpoint, String inputFileId, long expiresAt) {
    }

    /** One line waiting to run; {@code url} is its endpoint (null when read back: the batch's endpoint). */
    record Line(int line, String customId, String url, String body) {
    }

    private static final String COLUMNS = "id, status, endpoint, input_file_id, completion_window, metadata, created_at,"
            + " in_progress_at, finalizing_at, completed_at, failed_at, cancelling_at, cancelled_at, expires_at, expired_at,"
            + " output_file_id, error_file_id, errors, total, completed, failed, prompt_tokens, cached_tokens,"
            + " completion_tokens, engine_nanos, model";

    private final Database db;
    private final double costPerHour;

    /** {@code costPerHour}: the machine's price (--cost-per-hour), 0 when not given. */
    BatchStore(Database db, double costPerHour) {
        this.db = db;
        this.costPerHour = costPerHour;
    }

    Database db() {
        return db;
    }

    static long now() {
        return System.currentTimeMillis() / 1000;
    }

    void create(String id, String endpoint, String inputFileId, String window, String metadata, long expiresAt)
            throws SQLException {
        db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO batches (id, seq, status, endpoint, input_file_id,"
                    + " completion_window, metadata, created_at, expires_at) VALUES (?, ?, 'validating', ?, ?, ?, ?, ?, ?)")) {
                s.setString(1, id);
                s.setLong(2, Database.nextSeq(c, "batches"));
                s.setString(3, endpoint);
                s.setString(4, inputFileId);
                s.setString(5, window);
                s.setString(6, metadata);
                s.setLong(7, now());
                s.setLong(8, expiresAt);
                s.executeUpdate();
            }
            return null;
        });
    }

    /** The batch as OpenAI's batch object, if it exists. */
    Optional<ObjectNode> json(String id) throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM batches WHERE id = ?")) {
                s.setString(1, id);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? Optional.of(json(rs)) : Optional.empty();
                }
            }
        });
    }

    /** Up to {@code limit + 1} batches, newest first, after the one with id {@code after}. */
    List<ObjectNode> list(String after, int limit) throws SQLException {
        return db.transaction(c -> {
            String sql = "SELECT " + COLUMNS + " FROM batches"
                    + (after != null ? " WHERE seq < (SELECT seq FROM batches WHERE id = ?)" : "") + " ORDER BY seq DESC LIMIT ?";
            try (PreparedStatement s = c.prepareStatement(sql)) {
                int i = 1;
                if (after != null) {
                    s.setString(i++, after);
                }
                s.setInt(i, limit + 1);
                List<ObjectNode> out = new ArrayList<>();
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        out.add(json(rs));
                    }
                }
                return out;
            }
        });
    }

    /** The oldest batch that still has work (validating, running, finalizing or cancelling), if any. */
    Optional<Batch> nextActive() throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT id, status, endpoint, input_file_id, expires_at FROM batches"
                    + " WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling') ORDER BY seq LIMIT 1");
                 ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(new Batch(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getLong(5))) : Optional.empty();
            }
        });
    }

    String status(String id) throws SQLException {
        return db.transaction(c -> status(c, id));
    }

    private static String status(Connection c, String id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT status FROM batches WHERE id = ?")) {
            s.setString(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Moves a batch to {@code status}, stamping {@code <status>_at}. */
    static void setStatus(Connection c, String id, String status) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE batches SET status = ?, " + status + "_at = ? WHERE id = ?")) {
            s.setString(1, status);
            s.setLong(2, now());
            s.setString(3, id);
            s.executeUpdate();
        }
    }

    void setStatus(String id, String status) throws SQLException {
        db.transaction(c -> {
            setStatus(c, id, status);
            return null;
        });
    }

    /**
     * Asks a batch to stop: a validating or running batch becomes {@code cancelling}; returns the
     * status it had (null when there is no such batch).
     */
    String requestCancel(String id) throws SQLException {
        return db.transaction(c -> {
            String status = status(c, id);
            if ("validating".equals(status) || "in_progress".equals(status)) {
                setStatus(c, id, "cancelling");
            }
            return status;
        });
    }

    /**
     * Stores the validated input (each line waiting, or already failed with its error) and starts
     * the batch: one transaction, so a crash mid-validation validates again from the start.
     */
    void start(String id, List<Line> valid, List<String[]> invalid, String model) throws SQLException {
        db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO batch_lines (batch_id, line, custom_id, body, state, result) VALUES (?, ?, ?, ?, ?, ?)")) {
                for (Line l : valid) {
                    s.setString(1, id);
                    s.setInt(2, l.line());
                    s.setString(3, l.customId());
                    s.setString(4, l.body());
                    s.setInt(5, WAITING);
                    s.setString(6, null);
                    s.addBatch();
                }
                for (String[] e : invalid) { // {line, custom_id, result}
                    s.setString(1, id);
                    s.setInt(2, Integer.parseInt(e[0]));
                    s.setString(3, e[1]);
                    s.setString(4, null);
                    s.setInt(5, FAILED);
                    s.setString(6, e[2]);
                    s.addBatch();
                }
                s.executeBatch();
            }
            try (PreparedStatement s = c.prepareStatement("UPDATE batches SET total = ?, failed = ?, model = ? WHERE id = ?")) {
                s.setInt(1, valid.size() + invalid.size());
                s.setInt(2, invalid.size());
                s.setString(3, model);
                s.setString(4, id);
                s.executeUpdate();
            }
            setStatus(c, id, "in_progress");
            return null;
        });
    }

    /** The batch failed before running anything: {@code errors} is OpenAI's list of what was wrong. */
    void fail(String id, ObjectNode errors) throws SQLException {
        db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE batches SET errors = ? WHERE id = ?")) {
                s.setString(1, errors.toString());
                s.setString(2, id);
                s.executeUpdate();
            }
            setStatus(c, id, "failed");
            return null;
        });
    }

    /** Up to {@code limit} waiting lines after line {@code after}, in order. */
    List<Line> waiting(String id, int after, int limit) throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT line, custom_id, body FROM batch_lines"
                    + " WHERE batch_id = ? AND state = 0 AND line > ? ORDER BY line LIMIT ?")) {
                s.setString(1, id);
                s.setInt(2, after);
                s.setInt(3, limit);
                List<Line> out = new ArrayList<>();
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Line(rs.getInt(1), rs.getString(2), null, rs.getString(3)));
                    }
                }
                return out;
            }
        });
    }

    /** Whether a line is still waiting (not answered, not failed). */
    boolean isWaiting(String id, int line) throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT state FROM batch_lines WHERE batch_id = ? AND line = ?")) {
                s.setString(1, id);
                s.setInt(2, line);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() && rs.getInt(1) == WAITING;
                }
            }
        });
    }

    /**
     * Records a line's result and counts it (and its tokens) for the batch, in one transaction,
     * if the line is still waiting; returns whether it was.
     */
    boolean record(String id, int line, boolean answered, String result, int prompt, int cached, int completion,
                   long engineNanos) throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(
                    "UPDATE batch_lines SET state = ?, result = ? WHERE batch_id = ? AND line = ? AND state = 0")) {
                s.setInt(1, answered ? ANSWERED : FAILED);
                s.setString(2, result);
                s.setString(3, id);
                s.setInt(4, line);
                if (s.executeUpdate() == 0) {
                    return false;
                }
            }
            try (PreparedStatement s = c.prepareStatement("UPDATE batches SET " + (answered ? "completed = completed + 1"
                    : "failed = failed + 1") + ", prompt_tokens = prompt_tokens + ?, cached_tokens = cached_tokens + ?,"
                    + " completion_tokens = completion_tokens + ?, engine_nanos = engine_nanos + ? WHERE id = ?")) {
                s.setInt(1, prompt);
                s.setInt(2, cached);
                s.setInt(3, completion);
                s.setLong(4, engineNanos);
                s.setString(5, id);
                s.executeUpdate();
            }
            return true;
        });
    }

    /** Writes the results of the lines in {@code state}, one JSON line each in input order; returns how many. */
    int writeResults(String id, int state, OutputStream out) throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT result FROM batch_lines WHERE batch_id = ? AND state = ? ORDER BY line")) {
                s.setString(1, id);
                s.setInt(2, state);
                int n = 0;
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        out.write(rs.getString(1).getBytes(StandardCharsets.UTF_8));
                        out.write('\n');
                        n++;
                    }
                } catch (IOException e) {
                    throw new SQLException("could not write a result file", e);
                }
                return n;
            }
        });
    }

    /** Ends a batch: registers its result files (already on disk) and sets its final status, in one transaction. */
    void finish(String id, String status, FileStore.FileRecord output, FileStore.FileRecord errors) throws SQLException {
        db.transaction(c -> {
            if (output != null) {
                FileStore.insert(c, output);
            }
            if (errors != null) {
                FileStore.insert(c, errors);
            }
            try (PreparedStatement s = c.prepareStatement("UPDATE batches SET output_file_id = ?, error_file_id = ? WHERE id = ?")) {
                s.setString(1, output == null ? null : output.id());
                s.setString(2, errors == null ? null : errors.id());
                s.setString(3, id);
                s.executeUpdate();
            }
            setStatus(c, id, status);
            return null;
        });
    }

    private ObjectNode json(ResultSet rs) throws SQLException {
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

    static ArrayNode array() {
        return JsonNodeFactory.instance.arrayNode();
    }
}
