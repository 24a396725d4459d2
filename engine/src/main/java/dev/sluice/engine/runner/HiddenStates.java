package dev.sluice.engine.runner;

import dev.sluice.bindings.ggml.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The final hidden states (after the output norm, before the output head: what llama.cpp pools
 * for embeddings) one {@link ModelRunner#forward} returned for the rows that asked for them
 * ({@link Batch#hidden}). Rows live in memory the next forward reuses: read them before it.
 */
public final class HiddenStates {

    private final MemorySegment data;
    private final int width;
    private final OutputRows rows;

    HiddenStates(MemorySegment data, int width, OutputRows rows) {
        this.data = data;
        this.width = width;
        this.rows = rows;
    }

    static HiddenStates none(OutputRows rows) {
        return new HiddenStates(MemorySegment.NULL, 0, rows);
    }

    /** Floats per row: the model's embedding length. */
    public int width() {
        return width;
    }

    /** How many hidden rows batch sequence {@code sequence} has. */
    public int rowCount(int sequence) {
        return rows.hiddenCount()[sequence];
    }

    /** Hidden row {@code i} of batch sequence {@code sequence}: {@link #width()} F32 values. */
    public MemorySegment row(int sequence, int i) {
        if (i < 0 || i >= rowCount(sequence)) {
            throw new IndexOutOfBoundsException("hidden row " + i + " of " + rowCount(sequence) + " for sequence " + sequence);
        }
        // The hidden tensor holds every output row: the logits rows come first.
        long at = (long) rows.logitRows() + rows.firstHidden()[sequence] + i;
        return data.asSlice(at * width * Float.BYTES, (long) width * Float.BYTES);
    }

    /** Where a device's hidden rows are copied to the host; reused step after step. */
    static final class Readback implements AutoCloseable {
        // Shared, not confined: the runner is built on a loader thread and used on the engine thread.
        private final Arena arena = Arena.ofShared();
        private MemorySegment buffer = MemorySegment.NULL;

        MemorySegment read(Tensor hidden, boolean cpu) {
            if (cpu) {
                return hidden.hostData();
            }
            long bytes = hidden.bytes();
            if (buffer.byteSize() < bytes) {
                buffer = arena.allocate(Math.max(bytes, buffer.byteSize() * 2), 64);
            }
            MemorySegment target = buffer.asSlice(0, bytes);
            hidden.read(target, 0);
            return target;
        }

        @Override
        public void close() {
            arena.close();
        }
    }
}
