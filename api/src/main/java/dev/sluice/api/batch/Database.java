package dev.sluice.api.batch;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The Batch API's state in one SQLite file ({@code sluice.db} in the data dir): files, batches,
 * and one row per batch line holding its request and, once it finished, its result. SQLite in
 * WAL mode with {@code synchronous=FULL}: a committed transaction is on disk (fsynced) before the
 * commit returns, and a process killed mid-write loses only the transaction it was in. One
 * connection, used under one lock: the writes are small (a row per finished line) and a single
 * writer is what SQLite does best.
 */
final class Database implements AutoCloseable {

    /** Work inside one transaction; what it returns is what {@link #transaction} returns. */
    interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private static final String[] SCHEMA = {
        """
        CREATE TABLE IF NOT EXISTS files (
            id TEXT PRIMARY KEY, seq INTEGER NOT NULL, bytes INTEGER NOT NULL, created_at INTEGER NOT NULL,
            filename TEXT NOT NULL, purpose TEXT NOT NULL)""",
        """
        CREATE TABLE IF NOT EXISTS batches (
            id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL, endpoint TEXT NOT NULL,
            input_file_id TEXT NOT NULL, completion_window TEXT NOT NULL, metadata TEXT, created_at INTEGER NOT NULL,
            in_progress_at INTEGER, finalizing_at INTEGER, completed_at INTEGER, failed_at INTEGER,
            cancelling_at INTEGER, cancelled_at INTEGER, expires_at INTEGER NOT NULL, expired_at INTEGER,
            output_file_id TEXT, error_file_id TEXT, errors TEXT,
            total INTEGER NOT NULL DEFAULT 0, completed INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
            prompt_tokens INTEGER NOT NULL DEFAULT 0, cached_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0, engine_nanos INTEGER NOT NULL DEFAULT 0)""",
        // state: 0 waiting to run, 1 answered (output file), 2 failed (error file).
        """
        CREATE TABLE IF NOT EXISTS batch_lines (
            batch_id TEXT NOT NULL, line INTEGER NOT NULL, custom_id TEXT, body TEXT, state INTEGER NOT NULL,
            result TEXT, PRIMARY KEY (batch_id, line)) WITHOUT ROWID""",
    };

    private final Connection connection;
    private final ReentrantLock lock = new ReentrantLock();

    private Database(Connection connection) {
        this.connection = connection;
    }

    static Database open(Path file) throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA synchronous=FULL");
            s.execute("PRAGMA busy_timeout=10000");
            for (String ddl : SCHEMA) {
                s.execute(ddl);
            }
            addColumnIfMissing(s, "batches", "model", "TEXT");
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        c.setAutoCommit(false);
        return new Database(c);
    }

    /** Upgrades a database written by an older version in place: SQLite has no ADD COLUMN IF NOT EXISTS. */
    private static void addColumnIfMissing(Statement s, String table, String column, String type) throws SQLException {
        try (var rs = s.executeQuery("SELECT 1 FROM pragma_table_info('" + table + "') WHERE name = '" + column + "'")) {
            if (rs.next()) {
                return;
            }
        }
        s.execute("ALTER TABLE " + table + " ADD COLUMN " + column + " " + type);
    }

    /** Runs {@code work} in one transaction: all of its writes commit, or none. */
    <T> T transaction(Work<T> work) throws SQLException {
        lock.lock();
        try {
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    /** The next value of a table's {@code seq} column (creation order; ids are random). */
    static long nextSeq(Connection c, String table) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT COALESCE(MAX(seq), 0) + 1 FROM " + table);
             var rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            connection.close();
        } catch (SQLException e) {
            // closing: nothing left to do with it
        } finally {
            lock.unlock();
        }
    }
}
