package dev.sluice.api.batch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;

/** The data dir opened: its database, files, batches and their lines. */
record Storage(Database db, FileStore files, BatchStore batches, LineStore lines) implements AutoCloseable {

    static final String DATABASE = "sluice.db";

    /** Opens (creating) the data dir, and removes what a crash left half-written. */
    static Storage open(Path dataDir, double costPerHour) throws IOException, SQLException {
        Files.createDirectories(dataDir);
        Database db = Database.open(dataDir.resolve(DATABASE));
        try {
            FileStore files = new FileStore(db, dataDir);
            files.cleanUp();
            return new Storage(db, files, new BatchStore(db, costPerHour), new LineStore(db));
        } catch (IOException | SQLException | RuntimeException e) {
            db.close();
            throw e;
        }
    }

    @Override
    public void close() {
        db.close();
    }
}
