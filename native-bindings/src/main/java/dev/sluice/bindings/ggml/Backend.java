package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeLibraries;
import dev.sluice.bindings.NativeStrings;
import dev.sluice.bindings.SystemInfo;
import dev.sluice.bindings.ThreadTimes;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.MemorySegment;

/**
 * A ggml compute backend ({@code ggml_backend_t}): the CPU, or a GPU device. Graphs are computed
 * on it and its buffers hold their data. Engine-thread only; {@link #close()} is idempotent.
 */
public final class Backend implements AutoCloseable {

    private MemorySegment backend;
    private final boolean cpu;
    private final String name;
    private CpuThreadpool threadpool;
    private int maxThreads;
    private int activeThreads;
    private long[] workerThreadIds = new long[0];

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
     * Sets the CPU worker thread count (no-op on other backends): starts a persistent
     * {@link CpuThreadpool} of {@code threads} threads, the calling one included, and computes on
     * all of them. {@link #activeThreads(int)} then picks how many of them each graph uses.
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
        CpuThreadpool old = threadpool;
        long[] before = ThreadTimes.processThreadIds();
        threadpool = CpuThreadpool.start(threads);
        // The pool's workers were started by the call above, named after this thread (in an
        // OpenMP build there are none: OpenMP starts its own threads on the first graph).
        long[] started = ThreadTimes.startedBetween(before, ThreadTimes.processThreadIds(),
                ThreadTimes.threadName(ThreadTimes.currentThreadId()));
        workerThreadIds = started.length == threads - 1 ? started : new long[0];
        procs.setThreadpool(backend, threadpool.pointer());
        if (old != null) {
            old.close();
        }
        maxThreads = threads;
        activeThreads = threads;
    }

    /** The thread pool's size: the most threads a graph can use (0 on other backends). */
    public int maxThreads() {
        return maxThreads;
    }

    /** How many of the pool's threads the next graphs use. */
    public int activeThreads() {
        return activeThreads;
    }

    /**
     * Computes the next graphs on the first {@code threads} threads of the pool (the calling
     * thread and {@code threads - 1} workers; the others sleep). Cheap: ggml plans every graph for
     * the count set here, so it may change between any two graphs.
     */
    public void activeThreads(int threads) {
        if (!cpu) {
            return;
        }
        if (threads < 1 || threads > maxThreads) {
            throw new IllegalArgumentException("active threads must be in 1.." + maxThreads + ": " + threads);
        }
        if (threads != activeThreads) {
            CpuBackendProcs.get().setThreads(pointer(), threads);
            activeThreads = threads;
        }
    }

    /**
     * The kernel thread ids of the pool's workers in the order of their index (worker 1 first),
     * so that their scheduling can be watched; empty where they could not be told apart (an
     * OpenMP build, or another thread started at the same moment).
     */
    public long[] workerThreadIds() {
        return workerThreadIds.clone();
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
        if (threadpool != null) {
            threadpool.close();
            threadpool = null;
        }
    }

    @Override
    public String toString() {
        return "Backend[" + name + "]";
    }
}
