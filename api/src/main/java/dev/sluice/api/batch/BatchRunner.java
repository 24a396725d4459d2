package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.openai.BatchLines;
import dev.sluice.api.openai.Json;
import dev.sluice.api.openai.Responses;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Runs batches, oldest first, on one thread of its own: validates a batch's input, then runs its
 * waiting lines, at most {@code maxInFlight} at once (each on a virtual thread, through
 * {@link BatchLines}: behind every client request, within its own admission), records each
 * result as it comes (one transaction per line), and at the end writes the output and error
 * files. Everything it does starts from the database, so after a crash or a restart it picks up
 * where the database says: lines that were running are run again, finished ones never.
 *
 * <p>A line the server cannot take now (429, 503: loading, draining, stopped) stays waiting and
 * is retried after a pause. A cancelled batch stops its running lines; lines that did not finish
 * go to the error file as {@code batch_cancelled}, so that every input line appears exactly once
 * in one of the two files; an expired one likewise with {@code batch_expired}.
 */
final class BatchRunner {

    private static final System.Logger LOG = System.getLogger(BatchRunner.class.getName());
    private static final long RETRY_MILLIS = 1000;
    private static final int PAGE = 256;

    private final Storage storage;
    private final BatchLines lines;
    private final int maxInFlight;
    private final Semaphore slots;
    private final Map<Integer, Thread> running = new ConcurrentHashMap<>();
    private final Object wake = new Object();
    private final Thread thread;
    private volatile boolean stopping;
    /** Until when no line starts: one was refused for now (the engine loading, draining, full). */
    private volatile long retryAfter = System.nanoTime();

    BatchRunner(Storage storage, BatchLines lines, int maxInFlight) {
        this.storage = storage;
        this.lines = lines;
        this.maxInFlight = maxInFlight;
        this.slots = new Semaphore(maxInFlight);
        this.thread = Thread.ofPlatform().name("sluice-batch").daemon().unstarted(this::loop);
    }

    void start() {
        thread.start();
    }

    /** Something changed (a new batch, a cancel): look again now. */
    void wake() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /** Stops: running lines are interrupted and stay waiting (the next start runs them). */
    void stop() throws InterruptedException {
        stopping = true;
        running.values().forEach(Thread::interrupt);
        thread.interrupt();
        thread.join(TimeUnit.SECONDS.toMillis(30));
    }

    private void loop() {
        while (!stopping) {
            try {
                Optional<BatchStore.Batch> next = storage.batches().nextActive();
                if (next.isEmpty()) {
                    synchronized (wake) {
                        wake.wait(RETRY_MILLIS);
                    }
                    continue;
                }
                process(next.get());
            } catch (InterruptedException e) {
                if (!stopping) {
                    LOG.log(System.Logger.Level.WARNING, "batch runner interrupted; going on");
                }
            } catch (SQLException | IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "batch runner failed; retrying", e);
                pause();
            }
        }
    }

    private void process(BatchStore.Batch batch) throws SQLException, IOException, InterruptedException {
        BatchStore store = storage.batches();
        switch (batch.status()) {
            case "validating" -> validate(batch);
            case "in_progress" -> {
                if (run(batch) && !stopping) {
                    String status = store.status(batch.id());
                    if ("cancelling".equals(status)) {
                        close(batch, "batch_cancelled", "The batch was cancelled before this request ran.", "cancelled");
                    } else if (expired(batch)) {
                        close(batch, "batch_expired", "The batch expired before this request ran.", "expired");
                    } else {
                        store.setStatus(batch.id(), "finalizing");
                        finish(batch.id(), "completed");
                    }
                }
            }
            case "cancelling" -> close(batch, "batch_cancelled", "The batch was cancelled before this request ran.", "cancelled");
            case "finalizing" -> finish(batch.id(), "completed");
            default -> throw new IllegalStateException("batch " + batch.id() + " has status " + batch.status());
        }
    }

    private void validate(BatchStore.Batch batch) throws SQLException, IOException {
        Path input = storage.files().content(batch.inputFileId());
        if (!Files.isRegularFile(input)) {
            storage.batches().fail(batch.id(), errors("file_not_found", "The input file " + batch.inputFileId()
                    + " was deleted before the batch started.", "input_file_id", null));
            return;
        }
        BatchInput.Checked checked = BatchInput.check(input, batch.endpoint());
        if (checked.valid().isEmpty()) {
            ObjectNode errors = JsonNodeFactory.instance.objectNode();
            errors.put("object", "list");
            var data = errors.putArray("data");
            if (checked.invalid().isEmpty()) {
                data.add(error("empty_file", "The input file has no requests.", null, null));
            }
            for (String[] e : checked.invalid().subList(0, Math.min(100, checked.invalid().size()))) {
                ObjectNode line = (ObjectNode) Json.MAPPER.readTree(e[2]).get("error");
                data.add(line);
            }
            storage.batches().fail(batch.id(), errors);
            return;
        }
        storage.lines().start(batch.id(), checked.valid(), checked.invalid(), checked.model());
        LOG.log(System.Logger.Level.INFO, "batch " + batch.id() + ": " + checked.valid().size() + " requests to run, "
                + checked.invalid().size() + " invalid lines");
    }

    /**
     * Runs the batch's waiting lines until none is left, the batch is cancelled or expires, or
     * the runner stops; returns false only when stopping.
     */
    private boolean run(BatchStore.Batch batch) throws SQLException, InterruptedException {
        LineStore store = storage.lines();
        try {
            int after = 0;
            boolean started = false;
            while (!stopOrCancel(batch)) {
                List<LineStore.Line> page = store.waiting(batch.id(), after, PAGE);
                if (page.isEmpty()) {
                    if (running.isEmpty() && store.waiting(batch.id(), 0, 1).isEmpty()) {
                        return true; // every line has its result
                    }
                    if (!started) {
                        // Nothing new to start: wait for a running line to end (it wakes us) or the retry pause.
                        synchronized (wake) {
                            wake.wait(RETRY_MILLIS);
                        }
                    }
                    after = 0; // again from the start: lines put back (429, 503) wait there
                    started = false;
                    continue;
                }
                for (LineStore.Line line : page) {
                    after = line.line();
                    if (running.containsKey(line.line())) {
                        continue;
                    }
                    while (retryAfter - System.nanoTime() > 0 || !slots.tryAcquire(RETRY_MILLIS, TimeUnit.MILLISECONDS)) {
                        if (stopOrCancel(batch)) {
                            return !stopping;
                        }
                        if (retryAfter - System.nanoTime() > 0) {
                            Thread.sleep(RETRY_MILLIS / 10);
                        }
                    }
                    // The page was read a while ago: the line may have run and finished since. A line
                    // commits its result before it leaves running, so not running and still waiting
                    // here means it has not run.
                    if (running.containsKey(line.line()) || !store.isWaiting(batch.id(), line.line())) {
                        slots.release();
                        continue;
                    }
                    Thread t = Thread.ofVirtual().name("sluice-batch-line-" + line.line()).unstarted(() -> runLine(batch, line));
                    running.put(line.line(), t);
                    started = true;
                    t.start();
                }
            }
            return !stopping;
        } finally {
            if (stopping || !"in_progress".equals(safeStatus(batch.id()))) {
                running.values().forEach(Thread::interrupt);
            }
            // Before the batch is closed, every line that ran has recorded its result or given up.
            slots.acquireUninterruptibly(maxInFlight);
            slots.release(maxInFlight);
        }
    }

    private boolean stopOrCancel(BatchStore.Batch batch) throws SQLException {
        return stopping || !"in_progress".equals(storage.batches().status(batch.id())) || expired(batch);
    }

    private String safeStatus(String id) {
        try {
            return storage.batches().status(id);
        } catch (SQLException e) {
            return null;
        }
    }

    private static boolean expired(BatchStore.Batch batch) {
        return BatchStore.now() >= batch.expiresAt();
    }

    private void runLine(BatchStore.Batch batch, LineStore.Line line) {
        try {
            ObjectNode body = (ObjectNode) Json.MAPPER.readTree(line.body());
            String requestId = Responses.newId("req_");
            BatchLines.Outcome outcome = lines.run(batch.endpoint(), body, requestId);
            if (outcome.status() == 429 || outcome.status() == 503 || stopping) {
                retryAfter = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRY_MILLIS);
                return; // not now: the line stays waiting
            }
            ObjectNode result = JsonNodeFactory.instance.objectNode();
            result.put("id", Responses.newId("batch_req_"));
            result.put("custom_id", line.customId());
            ObjectNode response = result.putObject("response");
            response.put("status_code", outcome.status());
            response.put("request_id", requestId);
            response.set("body", outcome.body());
            result.putNull("error");
            storage.lines().record(batch.id(), line.line(), outcome.ok(), result.toString(), outcome.promptTokens(),
                    outcome.cachedTokens(), outcome.completionTokens(), outcome.engineNanos());
        } catch (InterruptedException e) {
            // cancelled or stopping: the line stays waiting
        } catch (SQLException | IOException | RuntimeException e) {
            if (!stopping) {
                LOG.log(System.Logger.Level.ERROR, "batch " + batch.id() + " line " + line.line() + " failed", e);
            }
        } finally {
            running.remove(line.line());
            slots.release();
            wake();
        }
    }

    /** Cancelled or expired: lines that did not run go to the error file, then the files are written. */
    private void close(BatchStore.Batch batch, String code, String message, String status) throws SQLException, IOException {
        for (List<LineStore.Line> page; !(page = storage.lines().waiting(batch.id(), 0, PAGE)).isEmpty(); ) {
            for (LineStore.Line line : page) {
                storage.lines().record(batch.id(), line.line(), false,
                        BatchInput.errorLine(line.customId(), code, message, null, null).toString(), 0, 0, 0, 0);
            }
        }
        finish(batch.id(), status);
    }

    /** Writes the output and error files from the recorded lines, then ends the batch with {@code status}. */
    private void finish(String id, String status) throws SQLException, IOException {
        FileStore files = storage.files();
        FileStore.FileRecord output = resultFile(files, id, LineStore.ANSWERED, "_output.jsonl");
        FileStore.FileRecord errors = resultFile(files, id, LineStore.FAILED, "_error.jsonl");
        storage.batches().finish(id, status, output, errors);
        LOG.log(System.Logger.Level.INFO, "batch " + id + " " + status);
    }

    /** One result file on disk (not yet registered), or null when no line has that state. */
    private FileStore.FileRecord resultFile(FileStore files, String batchId, int state, String suffix)
            throws SQLException, IOException {
        String fileId = FileStore.newId();
        Path target = files.content(fileId);
        int[] count = {0};
        long bytes = AtomicFiles.write(files.tmpDir(), target, out -> {
            try {
                count[0] = storage.lines().writeResults(batchId, state, out);
            } catch (SQLException e) {
                throw new IOException(e);
            }
        });
        if (count[0] == 0) {
            Files.deleteIfExists(target);
            return null;
        }
        return new FileStore.FileRecord(fileId, bytes, BatchStore.now(), batchId + suffix, "batch_output");
    }

    private static ObjectNode errors(String code, String message, String param, Integer line) {
        ObjectNode errors = JsonNodeFactory.instance.objectNode();
        errors.put("object", "list");
        errors.putArray("data").add(error(code, message, param, line));
        return errors;
    }

    private static ObjectNode error(String code, String message, String param, Integer line) {
        ObjectNode e = JsonNodeFactory.instance.objectNode();
        e.put("code", code);
        e.put("message", message);
        if (param == null) {
            e.putNull("param");
        } else {
            e.put("param", param);
        }
        if (line == null) {
            e.putNull("line");
        } else {
            e.put("line", line);
        }
        return e;
    }

    private void pause() {
        try {
            Thread.sleep(RETRY_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
