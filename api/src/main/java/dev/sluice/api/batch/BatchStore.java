package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Batches in the database: creating, reading (as OpenAI's batch object, {@link BatchJson}),
 * listing, and moving them through their statuses, each in one transaction. Their lines, and the
 * counters the lines drive, are {@link LineStore}'s.
 */
final class BatchStore {

    /** What the runner needs of a batch. */
    record Batch(String id, String status, String endpoint, String inputFileId, long expiresAt) {
    }

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
            try (PreparedStatement s = c.prepareStatement("SELECT " + BatchJson.COLUMNS + " FROM batches WHERE id = ?")) {
                s.setString(1, id);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? Optional.of(BatchJson.of(rs, costPerHour)) : Optional.empty();
                }
            }
        });
    }

    /** Up to {@code limit + 1} batches, newest first, after the one with id {@code after}. */
    List<ObjectNode> list(String after, int limit) throws SQLException {
        return db.transaction(c -> {
            String sql = "SELECT " + BatchJson.COLUMNS + " FROM batches"
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
                        out.add(BatchJson.of(rs, costPerHour));
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
}
