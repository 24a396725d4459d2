package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeLibraries;
import dev.sluice.bindings.NativeStrings;
import dev.sluice.bindings.SystemInfo;
import dev.sluice.bindings.raw.ggml_threadpool_params;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A ggml compute backend ({@code ggml_backend_t}): the CPU, or a GPU device. Graphs are computed
 * on it and its buffers hold their data. Engine-thread only; {@link #close()} is idempotent.
 */
public final class Backend implements AutoCloseable {

    private MemorySegment backend;
    private final boolean cpu;
    private final String name;
    private MemorySegment threadpool = MemorySegment.NULL;

    private Backend(MemorySegment backend) {
        if (backend.equals(MemorySegment.NULL)) {
            throw new NativeException("ggml could not initialize the backend");
        }
        this.backend = backend;
        this.cpu = llama_cpp.ggml_backend_dev_type(llama_cpp.ggml_backend_get_device(backend))
                == SystemInfo.DeviceType.CPU.ordinal();
        this.name = NativeStrings.read(llama_cpp.ggml_backend_name(backend));
    }

    /** The CPU backend with {@code threads} worker threads. */
    public static Backend cpu(int threads) {
        NativeLibraries.ensureLoaded();
        MemorySegment device = llama_cpp.ggml_backend_dev_by_type(SystemInfo.DeviceType.CPU.ordinal());
        if (device.equals(MemorySegment.NULL)) {
            throw new NativeException("no CPU device is registered");
        }
        Backend b = new Backend(llama_cpp.ggml_backend_dev_init(device, MemorySegment.NULL));
        b.threads(threads);
        return b;
    }

    /** The first GPU device when one is registered (CUDA builds on a GPU machine), else the CPU. */
    public static Backend best(int cpuThreads) {
        NativeLibraries.ensureLoaded();
        MemorySegment gpu = llama_cpp.ggml_backend_dev_by_type(SystemInfo.DeviceType.GPU.ordinal());
        if (!gpu.equals(MemorySegment.NULL)) {
            return new Backend(llama_cpp.ggml_backend_dev_init(gpu, MemorySegment.NULL));
        }
        return cpu(cpuThreads);
    }

    MemorySegment pointer() {
        if (backend == null) {
            throw new IllegalStateException("Backend " + name + " is closed");
        }
        return backend;
    }

    public boolean isCpu() {
        return cpu;
    }

    public String name() {
        return name;
    }

    /**
     * Sets the CPU worker thread count (no-op on other backends). The workers live in a persistent
     * ggml thread pool: without one, ggml starts and joins its threads on every graph, which costs
     * more than the whole computation of a small model's decode step.
     */
    public void threads(int threads) {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive: " + threads);
        }
        if (!cpu) {
            return;
        }
        MemorySegment backend = pointer();
        CpuBackendProcs procs = CpuBackendProcs.get();
        procs.setThreads(backend, threads);
        MemorySegment old = threadpool;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = llama_cpp.ggml_threadpool_params_default(arena, threads);
            // Idle workers sleep instead of spinning: between graphs the engine thread builds the
            // next one and samples, and a spinning worker would compete with it for a core.
            ggml_threadpool_params.poll(params, 0);
            threadpool = procs.newThreadpool(params);
        }
        if (threadpool.equals(MemorySegment.NULL)) {
            throw new NativeException("could not start a ggml thread pool of " + threads + " threads");
        }
        procs.setThreadpool(backend, threadpool);
        if (!old.equals(MemorySegment.NULL)) {
            procs.freeThreadpool(old);
        }
    }

    /** Whether this backend can run the op that produced {@code op}. */
    public boolean supports(Tensor op) {
        return llama_cpp.ggml_backend_supports_op(pointer(), op.pointer());
    }

    /** Runs the graph to completion; its tensors must be allocated. */
    public void compute(Graph graph) {
        int status = llama_cpp.ggml_backend_graph_compute(pointer(), graph.pointer());
        if (status != 0) {
            throw new NativeException("ggml_backend_graph_compute on " + name + " failed with status " + status);
        }
    }

    /** Waits for queued asynchronous work (GPU backends) to finish. */
    public void synchronize() {
        llama_cpp.ggml_backend_synchronize(pointer());
    }

    /** A buffer of {@code bytes} bytes in this backend's memory. */
    public BackendBuffer allocateBuffer(long bytes) {
        MemorySegment buft = llama_cpp.ggml_backend_get_default_buffer_type(pointer());
        MemorySegment buffer = llama_cpp.ggml_backend_buft_alloc_buffer(buft, bytes);
        if (buffer.equals(MemorySegment.NULL)) {
            throw new NativeException("could not allocate " + bytes + " bytes on backend " + name);
        }
        return new BackendBuffer(buffer, null);
    }

    /** Allocates every tensor of {@code context} in one new buffer of this backend. */
    public BackendBuffer allocateTensors(GgmlContext context) {
        MemorySegment buffer = llama_cpp.ggml_backend_alloc_ctx_tensors(context.pointer(), pointer());
        if (buffer.equals(MemorySegment.NULL)) {
            throw new NativeException("could not allocate the context's tensors on backend " + name);
        }
        return new BackendBuffer(buffer, null);
    }

    MemorySegment defaultBufferType() {
        return llama_cpp.ggml_backend_get_default_buffer_type(pointer());
    }

    @Override
    public void close() {
        if (backend == null) {
            return;
        }
        llama_cpp.ggml_backend_free(backend);
        backend = null;
        if (!threadpool.equals(MemorySegment.NULL)) {
            CpuBackendProcs.get().freeThreadpool(threadpool);
            threadpool = MemorySegment.NULL;
        }
    }

    @Override
    public String toString() {
        return "Backend[" + name + "]";
    }
}
