package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeLibraries;
import dev.sluice.bindings.raw.ggml_threadpool_params;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A persistent ggml CPU thread pool ({@code ggml_threadpool_t}) of {@code threads} threads, the
 * computing thread included (it starts {@code threads - 1} workers). Its idle workers sleep rather
 * than poll. Without a pool, ggml starts and joins its threads for every graph (when built without
 * OpenMP), which costs more than a small model's whole decode step. {@link #close()} is idempotent.
 */
public final class CpuThreadpool implements AutoCloseable {

    private MemorySegment pool;
    private final int threads;

    private CpuThreadpool(MemorySegment pool, int threads) {
        this.pool = pool;
        this.threads = threads;
    }

    public static CpuThreadpool start(int threads) {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive: " + threads);
        }
        NativeLibraries.ensureLoaded();
        MemorySegment pool;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = llama_cpp.ggml_threadpool_params_default(arena, threads);
            // Idle workers sleep instead of spinning: between graphs the engine thread builds the
            // next one and samples, and a spinning worker would compete with it for a core.
            ggml_threadpool_params.poll(params, 0);
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
