package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.openai.BatchLines;
import dev.sluice.api.openai.Json;
import dev.sluice.api.openai.Responses;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bin/batch}: a Batch API input file run to an output file with no server, the engine's
 * whole capacity for it (vLLM's {@code run-batch}). The output has one result line per input line,
 * in input order, in the server's shapes: answers and refused requests with their
 * {@code response}, lines that could not run with their {@code error}. It is resumable: run again
 * on the same output file, it keeps every complete line there (a line cut off by a crash is
 * removed), and runs only the input lines that have none, appending their results in input order.
 */
public final class OfflineBatch {

    /** What a run did. */
    public record Summary(int lines, int skipped, int answered, int failed, long completionTokens, double seconds) {
    }

    private static final long FORCE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final BatchLines lines;
    private final int maxInFlight;
    private final Progress progress;

    public OfflineBatch(BatchLines lines, int maxInFlight, Progress progress) {
        this.lines = lines;
        this.maxInFlight = maxInFlight;
        this.progress = progress;
    }

    public Summary run(Path input, Path output) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Set<String> done = resume(output);
        BatchInput.Checked checked = BatchInput.check(input, null);
        // Every line without a result yet, in input order: invalid lines' results are known already.
        List<LineStore.Line> todo = new ArrayList<>();
        java.util.Map<Integer, String> invalid = new java.util.TreeMap<>();
        for (String[] e : checked.invalid()) {
            int number = Integer.parseInt(e[0]);
            if (!done.contains(key(e[1], number))) {
                invalid.put(number, e[2]);
                todo.add(new LineStore.Line(number, e[1], null, null));
            }
        }
        for (LineStore.Line l : checked.valid()) {
            if (!done.contains(key(l.customId(), l.line()))) {
                todo.add(l);
            }
        }
        todo.sort(java.util.Comparator.comparingInt(LineStore.Line::line));
        int toRun = todo.size() - invalid.size();
        int skipped = checked.valid().size() + checked.invalid().size() - todo.size();
        AtomicInteger answered = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger(invalid.size());
        AtomicLong tokens = new AtomicLong();
        try (Output out = new Output(output)) {
            progress.start(toRun, skipped);
            Semaphore slots = new Semaphore(maxInFlight);
            // Results are written in input order; a line that finishes early waits for the ones
            // before it, at most a window's worth of them (a slow line holds back new ones, not memory).
            Semaphore window = new Semaphore(Math.max(256, 16 * maxInFlight));
            InOrder inOrder = new InOrder(out, todo.size());
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < todo.size(); i++) {
                LineStore.Line line = todo.get(i);
                int position = i;
                window.acquire();
                if (inOrder.failure() != null) {
                    break;
                }
                if (line.url() == null) {
                    inOrder.complete(position, invalid.get(line.line()), window);
                    continue;
                }
                slots.acquire();
                threads.add(Thread.ofVirtual().name("sluice-offline-line-" + line.line()).start(() -> {
                    String requestId = Responses.newId("req_");
                    BatchLines.Outcome o = null;
                    try {
                        o = lines.run(line.url(), (ObjectNode) Json.MAPPER.readTree(line.body()), requestId);
                    } catch (IOException | RuntimeException e) {
                        inOrder.fail(e instanceof IOException io ? io : new IOException(e), window);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        inOrder.fail(new java.io.InterruptedIOException("interrupted"), window);
                    } finally {
                        slots.release();
                    }
                    if (o != null) {
                        (o.ok() ? answered : failed).incrementAndGet();
                        tokens.addAndGet(o.completionTokens());
                        progress.lineDone(o.completionTokens());
                        inOrder.complete(position, result(line.customId(), requestId, o).toString(), window);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            if (inOrder.failure() != null) {
                throw inOrder.failure();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        progress.finish();
        return new Summary(checked.valid().size() + checked.invalid().size(), skipped, answered.get(), failed.get(),
                tokens.get(), seconds);
    }

    /** A line's identity across runs: its custom_id, or its line number when it has none. */
    private static String key(String customId, int line) {
        return customId != null ? "id:" + customId : "line:" + line;
    }

    static ObjectNode result(String customId, String requestId, BatchLines.Outcome o) {
        ObjectNode result = JsonNodeFactory.instance.objectNode();
        result.put("id", Responses.newId("batch_req_"));
        result.put("custom_id", customId);
        ObjectNode response = result.putObject("response");
        response.put("status_code", o.status());
        response.put("request_id", requestId);
        response.set("body", o.body());
        result.putNull("error");
        return result;
    }

    /**
     * The keys of the complete result lines already in {@code output}; a last line without its
     * newline (cut off by a crash) is truncated away first.
     */
    private static Set<String> resume(Path output) throws IOException {
        Set<String> done = new HashSet<>();
        if (!Files.exists(output)) {
            return done;
        }
        byte[] bytes = Files.readAllBytes(output);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n') {
            end--;
        }
        if (end < bytes.length) {
            try (FileChannel channel = FileChannel.open(output, StandardOpenOption.WRITE)) {
                channel.truncate(end);
                channel.force(true);
            }
        }
        for (String line : new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode node = Json.MAPPER.readTree(line);
            JsonNode customId = node.get("custom_id");
            JsonNode number = node.at("/error/line");
            done.add(key(customId != null && customId.isTextual() ? customId.textValue() : null,
                    number.isInt() ? number.intValue() : -1));
        }
        return done;
    }

    /** Writes results in their input positions' order: each once all before it are written. */
    private static final class InOrder {
        private final Output out;
        private final String[] pending;
        private int next;
        private IOException failure;

        InOrder(Output out, int size) {
            this.out = out;
            this.pending = new String[size];
        }

        synchronized void complete(int position, String line, Semaphore window) {
            pending[position] = line;
            while (next < pending.length && pending[next] != null && failure == null) {
                try {
                    out.write(pending[next]);
                } catch (IOException e) {
                    fail(e, window);
                }
                pending[next++] = null;
                window.release();
            }
        }

        /** Nothing after a failed line can be written in order: the run stops, and its waiters with it. */
        synchronized void fail(IOException e, Semaphore window) {
            failure = failure == null ? e : failure;
            window.release(pending.length);
        }

        synchronized IOException failure() {
            return failure;
        }
    }

    /**
     * The output file, appended to one whole line at a time, forced to disk at most a second
     * after each write (a crash loses at most that second's lines, which the next run redoes).
     */
    private static final class Output implements AutoCloseable {
        private final FileChannel channel;
        private long lastForce = System.nanoTime();

        Output(Path path) throws IOException {
            channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        }

        synchronized void write(String line) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            if (System.nanoTime() - lastForce > FORCE_NANOS) {
                channel.force(false);
                lastForce = System.nanoTime();
            }
        }

        @Override
        public synchronized void close() throws IOException {
            channel.force(true);
            channel.close();
        }
    }
}
