package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.openai.Responses;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Files of the Files API: content in {@code files/ID} under the data dir, metadata in the
 * database. Content is always on disk, whole and forced, before its row is committed; a row is
 * deleted before its content. So a crash can leave content without a row (removed at the next
 * start, with whatever {@code tmp/} holds) but never a row without content.
 */
final class FileStore {

    /** One file's metadata, as OpenAI's file object. */
    record FileRecord(String id, long bytes, long createdAt, String filename, String purpose) {
        ObjectNode json() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("id", id);
            o.put("object", "file");
            o.put("bytes", bytes);
            o.put("created_at", createdAt);
            o.put("filename", filename);
            o.put("purpose", purpose);
            o.put("status", "processed"); // deprecated by OpenAI, still sent (and required by older SDKs)
            o.putNull("status_details");
            o.putNull("expires_at");
            return o;
        }
    }

    private final Database db;
    private final Path dir;
    private final Path tmp;

    FileStore(Database db, Path dataDir) throws IOException {
        this.db = db;
        this.dir = Files.createDirectories(dataDir.resolve("files"));
        this.tmp = Files.createDirectories(dataDir.resolve("tmp"));
    }

    Path tmpDir() {
        return tmp;
    }

    static String newId() {
        return Responses.newId("file-");
    }

    Path content(String id) {
        return dir.resolve(id);
    }

    /** Removes what a crash left: temporary files, and content whose row was never committed (or was deleted). */
    void cleanUp() throws IOException, SQLException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(tmp)) {
            for (Path p : entries) {
                Files.deleteIfExists(p);
            }
        }
        Set<String> known = db.transaction(c -> {
            Set<String> ids = new HashSet<>();
            try (PreparedStatement s = c.prepareStatement("SELECT id FROM files"); ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        });
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                if (!known.contains(p.getFileName().toString())) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * Adds an uploaded file: {@code upload} (complete and forced, in {@link #tmpDir}) becomes its
     * content, then its row is committed.
     */
    FileRecord add(Path upload, String filename, String purpose) throws IOException, SQLException {
        String id = newId();
        long bytes = Files.size(upload);
        AtomicFiles.publish(upload, content(id));
        FileRecord record = new FileRecord(id, bytes, System.currentTimeMillis() / 1000, filename, purpose);
        db.transaction(c -> {
            insert(c, record);
            return null;
        });
        return record;
    }

    /** Inserts a file's row inside a caller's transaction (its content must already be in place). */
    static void insert(Connection c, FileRecord f) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO files (id, seq, bytes, created_at, filename, purpose) VALUES (?, ?, ?, ?, ?, ?)")) {
            s.setString(1, f.id());
            s.setLong(2, Database.nextSeq(c, "files"));
            s.setLong(3, f.bytes());
            s.setLong(4, f.createdAt());
            s.setString(5, f.filename());
            s.setString(6, f.purpose());
            s.executeUpdate();
        }
    }

    Optional<FileRecord> get(String id) throws SQLException {
        return db.transaction(c -> get(c, id));
    }

    static Optional<FileRecord> get(Connection c, String id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT id, bytes, created_at, filename, purpose FROM files WHERE id = ?")) {
            s.setString(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        }
    }

    /**
     * Up to {@code limit + 1} files after the one with id {@code after} (if given) in creation
     * order ({@code descending}: newest first), optionally of one purpose; one more than asked
     * tells the caller whether there are more.
     */
    List<FileRecord> list(String after, int limit, boolean descending, String purpose) throws SQLException {
        return db.transaction(c -> {
            String cmp = descending ? "<" : ">";
            StringBuilder sql = new StringBuilder("SELECT id, bytes, created_at, filename, purpose FROM files WHERE 1 = 1");
            if (after != null) {
                sql.append(" AND seq ").append(cmp).append(" (SELECT seq FROM files WHERE id = ?)");
            }
            if (purpose != null) {
                sql.append(" AND purpose = ?");
            }
            sql.append(" ORDER BY seq ").append(descending ? "DESC" : "ASC").append(" LIMIT ?");
            try (PreparedStatement s = c.prepareStatement(sql.toString())) {
                int i = 1;
                if (after != null) {
                    s.setString(i++, after);
                }
                if (purpose != null) {
                    s.setString(i++, purpose);
                }
                s.setInt(i, limit + 1);
                List<FileRecord> out = new ArrayList<>();
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        out.add(read(rs));
                    }
                }
                return out;
            }
        });
    }

    /** Deletes a file: its row, then its content. False when there was none. */
    boolean delete(String id) throws SQLException, IOException {
        boolean existed = db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("DELETE FROM files WHERE id = ?")) {
                s.setString(1, id);
                return s.executeUpdate() > 0;
            }
        });
        if (existed) {
            Files.deleteIfExists(content(id));
        }
        return existed;
    }

    private static FileRecord read(ResultSet rs) throws SQLException {
        return new FileRecord(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getString(4), rs.getString(5));
    }
}
