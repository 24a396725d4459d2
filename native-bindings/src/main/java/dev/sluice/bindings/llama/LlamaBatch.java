package dev.sluice.bindings.llama;

import dev.sluice.bindings.raw.llama_batch;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A {@code llama_batch} for {@link LlamaContext#decode}: tokens with their positions, the one
 * sequence each belongs to, and whether its logits are wanted. Not thread-safe.
 */
public final class LlamaBatch implements AutoCloseable {

    private final int capacity;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment struct;
    private final MemorySegment tokens;
    private final MemorySegment positions;
    private final MemorySegment seqCounts;
    private final MemorySegment seqIdPointers;
    private final MemorySegment logitFlags;
    private int size;
    private boolean closed;

    public LlamaBatch(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("batch capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.struct = llama_cpp.llama_batch_init(arena, capacity, 0, 1);
        this.tokens = llama_batch.token(struct).reinterpret(capacity * 4L);
        this.positions = llama_batch.pos(struct).reinterpret(capacity * 4L);
        this.seqCounts = llama_batch.n_seq_id(struct).reinterpret(capacity * 4L);
        this.seqIdPointers = llama_batch.seq_id(struct).reinterpret(capacity * ValueLayout.ADDRESS.byteSize());
        this.logitFlags = llama_batch.logits(struct).reinterpret(capacity);
    }

    /** Appends a token; returns its index in the batch (the index {@link LlamaContext#logits} takes). */
    public int add(int token, int position, int sequenceId, boolean wantLogits) {
        checkOpen();
        if (size == capacity) {
            throw new IllegalStateException("batch is full (" + capacity + " tokens)");
        }
        int i = size++;
        tokens.setAtIndex(ValueLayout.JAVA_INT, i, token);
        positions.setAtIndex(ValueLayout.JAVA_INT, i, position);
        seqCounts.setAtIndex(ValueLayout.JAVA_INT, i, 1);
        seqIdPointers.getAtIndex(ValueLayout.ADDRESS, i).reinterpret(4).set(ValueLayout.JAVA_INT, 0, sequenceId);
        logitFlags.set(ValueLayout.JAVA_BYTE, i, (byte) (wantLogits ? 1 : 0));
        llama_batch.n_tokens(struct, size);
        return i;
    }

    public void clear() {
        checkOpen();
        size = 0;
        llama_batch.n_tokens(struct, 0);
    }

    public int size() {
        return size;
    }

    public int capacity() {
        return capacity;
    }

    MemorySegment struct() {
        checkOpen();
        return struct;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("LlamaBatch is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        llama_cpp.llama_batch_free(struct);
        arena.close();
    }
}
