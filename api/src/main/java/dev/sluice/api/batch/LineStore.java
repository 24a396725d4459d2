package dev.sluice.api.batch;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * A batch's lines in the database, and the batch counters they drive. A line's result is recorded
 * in one transaction with the batch's counters, and only while the line is still waiting
 * ({@code state = 0}): a line is answered at most once, whatever retries or restarts happen, and a
 * finished line is never run again. The output and error files are assembled from the lines when
 * the batch finishes. The batch rows themselves are {@link BatchStore}'s.
 */
final class LineStore {

    /** Line states. */
    static final int WAITING = 0;
    static final int ANSWERED = 1;
    static final int FAILED = 2;

    /** One line waiting to run; {@code url} is its endpoint (null when read back: the batch's endpoint). */
    record Line(int line, String customId, String url, String body) {
    }

    private final Database db;

    LineStore(Database db) {
        this.db = db;
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
            BatchStore.setStatus(c, id, "in_progress");
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
}
