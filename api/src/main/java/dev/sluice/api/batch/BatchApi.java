package dev.sluice.api.batch;

import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.openai.BatchLines;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;

/**
 * The Files and Batch API of one server: its endpoints, its data dir and its runner. The data dir
 * is opened when first needed (a server that never sees a file or batch writes nothing there), or
 * at start when it already holds a database, so that unfinished batches resume at once.
 */
public final class BatchApi implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(BatchApi.class.getName());

    private final Path dataDir;
    private final long maxFileBytes;
    private final int maxInFlight;
    private final double costPerHour;
    private BatchLines lines;
    private Storage storage;
    private BatchRunner runner;
    private boolean closed;

    public BatchApi(Path dataDir, long maxFileBytes, int maxInFlight, double costPerHour) {
        this.dataDir = dataDir;
        this.costPerHour = costPerHour;
        this.maxFileBytes = maxFileBytes;
        this.maxInFlight = maxInFlight;
    }

    /** The largest body Helidon must let through for an upload. */
    public long maxUploadBytes() {
        return maxFileBytes + FilesService.MULTIPART_OVERHEAD;
    }

    /** Registers the endpoints; batch lines run through {@code lines}. */
    public void register(HttpRouting.Builder routing, BatchLines lines, ConnectionGuard guard) {
        synchronized (this) {
            this.lines = lines;
        }
        routing.register(new FilesService(this, maxFileBytes, guard));
        routing.register(new BatchesService(this, guard));
    }

    /** Resumes the batches a data dir from before holds, if it holds any. */
    public void resume() {
        if (Files.exists(dataDir.resolve(Storage.DATABASE))) {
            try {
                storage();
            } catch (ApiException e) {
                LOG.log(System.Logger.Level.ERROR, "cannot resume batches: " + e.getMessage());
            }
        }
    }

    /** The opened data dir (opening it and starting the runner on first use); a 500 when it cannot be opened. */
    synchronized Storage storage() {
        if (closed) {
            throw ApiException.unavailable("The server is stopping.");
        }
        if (storage == null) {
            try {
                storage = Storage.open(dataDir, costPerHour);
            } catch (IOException | SQLException e) {
                LOG.log(System.Logger.Level.ERROR, "cannot open the data dir " + dataDir, e);
                throw new ApiException(Status.INTERNAL_SERVER_ERROR_500, "server_error",
                        "The server cannot open its data dir (--data-dir): " + e.getMessage(), null, null);
            }
            LOG.log(System.Logger.Level.INFO, "files and batches in " + dataDir.toAbsolutePath());
            runner = new BatchRunner(storage, lines, maxInFlight);
            runner.start();
        }
        return storage;
    }

    /** A batch was created or cancelled. */
    synchronized void changed() {
        if (runner != null) {
            runner.wake();
        }
    }

    /** Stops the runner (running lines stay waiting for the next start) and closes the database. */
    @Override
    public void close() {
        BatchRunner r;
        Storage s;
        synchronized (this) {
            closed = true;
            r = runner;
            s = storage;
        }
        if (r != null) {
            try {
                r.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (s != null) {
            s.close();
        }
    }
}
