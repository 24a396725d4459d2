package dev.sluice.bindings.llama;

import dev.sluice.bindings.raw.llama_token_data;
import dev.sluice.bindings.raw.llama_token_data_array;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A {@code llama_token_data_array}: the candidate list that {@link LlamaSampler}s filter and pick
 * from, with an off-heap data buffer of fixed capacity that is reused from call to call.
 *
 * <p>Samplers reorder and shrink the list in place, so index {@code i} is the token id only right
 * after {@link #fill}. The per-candidate accessors are meant for tight loops: they check only the
 * buffer's capacity, not {@link #size()}. Backed by a confined arena: create, use and close it on
 * one thread. {@link #close()} may be called more than once; any other call after it throws
 * {@link IllegalStateException}.
 */
public final class LlamaTokenDataArray implements AutoCloseable {

    private static final long STRIDE = llama_token_data.sizeof();
    private static final long ID = llama_token_data.id$offset();
    private static final long LOGIT = llama_token_data.logit$offset();
    private static final long PROBABILITY = llama_token_data.p$offset();

    private final int capacity;
    // Shared, not confined: an engine's sampling lanes use their arrays from a worker thread, one
    // thread at a time (each lane's work is handed over and joined through an executor).
    private final Arena arena = Arena.ofShared();
    private final MemorySegment struct;
    private final MemorySegment data;
    private boolean closed;

    public LlamaTokenDataArray(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("candidate capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.data = arena.allocate(llama_token_data.layout(), capacity);
        this.struct = llama_token_data_array.allocate(arena);
        llama_token_data_array.data(struct, data);
        setSize(0);
    }

    /**
     * Makes every token a candidate: entry {@code i} becomes token {@code i} with logit
     * {@code logits[i]}. {@code logits} holds F32 values, one per token, at most {@link #capacity()}.
     */
    public void fill(MemorySegment logits) {
        checkOpen();
        long count = logits.byteSize() / Float.BYTES;
        if (count > capacity || logits.byteSize() % Float.BYTES != 0) {
            throw new IllegalArgumentException("logits of " + logits.byteSize() + " bytes do not fit "
                    + capacity + " F32 candidates");
        }
        for (int i = 0; i < count; i++) {
            long entry = i * STRIDE;
            data.set(ValueLayout.JAVA_INT, entry + ID, i);
            data.set(ValueLayout.JAVA_FLOAT, entry + LOGIT, logits.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            data.set(ValueLayout.JAVA_FLOAT, entry + PROBABILITY, 0f);
        }
        setSize((int) count);
    }

    /** Makes {@code token} the only candidate, with logit 0. */
    public void fillSingle(int token) {
        checkOpen();
        data.set(ValueLayout.JAVA_INT, ID, token);
        data.set(ValueLayout.JAVA_FLOAT, LOGIT, 0f);
        data.set(ValueLayout.JAVA_FLOAT, PROBABILITY, 0f);
        setSize(1);
    }

    /**
     * Makes the candidates exactly {@code count} entries: token {@code ids[i]} with logit
     * {@code logits[i]} (a subset of the vocabulary, for a sampler that should see only those).
     */
    public void fillSubset(int[] ids, float[] logits, int count) {
        checkOpen();
        if (count > capacity || count > ids.length || count > logits.length) {
            throw new IllegalArgumentException(count + " candidates do not fit " + capacity);
        }
        for (int i = 0; i < count; i++) {
            long entry = i * STRIDE;
            data.set(ValueLayout.JAVA_INT, entry + ID, ids[i]);
            data.set(ValueLayout.JAVA_FLOAT, entry + LOGIT, logits[i]);
            data.set(ValueLayout.JAVA_FLOAT, entry + PROBABILITY, 0f);
        }
        setSize(count);
    }

    public int capacity() {
        return capacity;
    }

    /** Candidates left after the samplers applied so far. */
    public int size() {
        checkOpen();
        return (int) llama_token_data_array.size(struct);
    }

    /** The token id of candidate {@code i}, for {@code 0 <= i < size()}. */
    public int id(int i) {
        return data.get(ValueLayout.JAVA_INT, i * STRIDE + ID);
    }

    /** The logit of candidate {@code i}, for {@code 0 <= i < size()}. */
    public float logit(int i) {
        return data.get(ValueLayout.JAVA_FLOAT, i * STRIDE + LOGIT);
    }

    public void setLogit(int i, float logit) {
        data.set(ValueLayout.JAVA_FLOAT, i * STRIDE + LOGIT, logit);
    }

    /** The index (not the token id) a selecting sampler chose, or -1 if none has. */
    public int selectedIndex() {
        checkOpen();
        return (int) llama_token_data_array.selected(struct);
    }

    MemorySegment struct() {
        checkOpen();
        return struct;
    }

    private void setSize(int size) {
        llama_token_data_array.size(struct, size);
        llama_token_data_array.selected(struct, -1);
        llama_token_data_array.sorted(struct, false);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("LlamaTokenDataArray is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        arena.close();
    }
}
