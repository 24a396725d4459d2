package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeLibraries;
import dev.sluice.bindings.raw.ggml_threadpool_params;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A persistent ggml CPU thread pool ({@code ggml_threadpool_t}) of {@code threads} threads, the
 * computing thread included (it starts {@code threads - 1} workers). Without a pool, ggml starts
 * and joins its threads for every graph (when built without OpenMP), which costs more than a small
 * model's whole decode step. A worker that finished a graph first spins for the next one for a
 * while set by the pool's poll level ({@link #start(int, int)}), then sleeps until woken.
 * {@link #close()} is idempotent.
 */
public final class CpuThreadpool implements AutoCloseable {

    private MemorySegment pool;
    private final int threads;

    private CpuThreadpool(MemorySegment pool, int threads) {
        this.pool = pool;
        this.threads = threads;
    }

    /** A pool whose idle workers sleep at once: nothing spins between graphs. */
    public static CpuThreadpool start(int threads) {
        return start(threads, 0);
    }

    /**
     * A pool whose workers, after a graph, spin for the next one for {@code poll} times ggml's
     * unit of polling (131 072 pause instructions: about 3.3 ms on the 2-core EPYC this was
     * measured on) before they sleep; 0 sleeps at once. A spinning worker starts the next graph
     * at once instead of being woken, and holds its core meanwhile.
     */
    public static CpuThreadpool start(int threads, int poll) {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive: " + threads);
        }
        if (poll < 0) {
            throw new IllegalArgumentException("poll must not be negative: " + poll);
        }
        NativeLibraries.ensureLoaded();
        MemorySegment pool;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = llama_cpp.ggml_threadpool_params_default(arena, threads);
            ggml_threadpool_params.poll(params, poll);
            pool = CpuBackendProcs.get().newThreadpool(params);
        }
        if (pool.equals(MemorySegment.NULL)) {
            throw new NativeException("could not start a ggml thread pool of " + threads + " threads");
        }
        return new CpuThreadpool(pool, threads);
    }

    public int threads() {
        return threads;
    }

    /** The {@code ggml_threadpool_t}, e.g. for {@code llama_attach_threadpool}. */
    public MemorySegment pointer() {
        if (pool == null) {
            throw new IllegalStateException("thread pool is closed");
        }
        return pool;
    }

    /** Stops the workers; whatever computes with this pool must have let go of it first. */
    @Override
    public void close() {
        if (pool != null) {
            CpuBackendProcs.get().freeThreadpool(pool);
            pool = null;
        }
    }
}
