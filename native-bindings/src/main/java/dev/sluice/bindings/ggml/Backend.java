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
    /** Poll level of {@link #spinningPool}: about 3.3 ms of spinning, longer than a small step's gap. */
    static final int SPIN_POLL = 1;

    private CpuThreadpool threadpool;      // its idle workers sleep at once
    private CpuThreadpool spinningPool;    // the same size, its idle workers spin a while first; null with one thread
    private boolean spinning;              // whether graphs run on spinningPool now
    private int maxThreads;
    private int activeThreads;
    private long[] workerThreadIds = new long[0];
    private long[] spinningWorkerThreadIds = new long[0];

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
     * all of them. {@link #activeThreads(int)} then picks how many of them each graph uses. With
     * more than one thread a second pool of the same size is started whose idle workers spin for
     * the next graph a while before they sleep ({@link #spinBetweenGraphs}).
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
        CpuThreadpool oldSpinning = spinningPool;
        long[] before = ThreadTimes.processThreadIds();
        threadpool = CpuThreadpool.start(threads);
        workerThreadIds = workersStarted(before, threads);
        if (threads > 1) {
            before = ThreadTimes.processThreadIds();
            spinningPool = CpuThreadpool.start(threads, SPIN_POLL);
            spinningWorkerThreadIds = workersStarted(before, threads);
        } else {
            spinningPool = null;
            spinningWorkerThreadIds = new long[0];
        }
        procs.setThreadpool(backend, threadpool.pointer());
        spinning = false;
        if (old != null) {
            old.close();
        }
        if (oldSpinning != null) {
            oldSpinning.close();
        }
        maxThreads = threads;
        activeThreads = threads;
    }

    /**
     * The workers a pool of {@code threads} threads just started: named after this thread, and
     * none in an OpenMP build (OpenMP starts its own threads on the first graph).
     */
    private static long[] workersStarted(long[] before, int threads) {
        long[] started = ThreadTimes.startedBetween(before, ThreadTimes.processThreadIds(),
                ThreadTimes.threadName(ThreadTimes.currentThreadId()));
        return started.length == threads - 1 ? started : new long[0];
    }

    /**
     * Whether the next graphs run on the pool whose workers, after a graph, spin for the next one
     * for a few milliseconds instead of sleeping at once (CPU only, and only while every thread
     * is active: an inactive worker of a spinning pool would spin through every graph it sits
     * out). Waking a sleeping worker costs a step its wake-up, and on a host where the HTTP threads
     * take the idle core meanwhile, the wait for that core; a spinning worker holds the core
     * between steps. Worth it when steps are short and follow each other closely (one or a few
     * decoding sequences); between long steps the core is better left to the HTTP threads.
     * Switching costs a lock: the pool left is paused, so its workers stop spinning at once.
     */
    public void spinBetweenGraphs(boolean spin) {
        boolean use = spin && spinningPool != null && activeThreads == maxThreads;
        if (use != spinning) {
            CpuBackendProcs.get().setThreadpool(pointer(), use ? spinningPool.pointer() : threadpool.pointer());
            spinning = use;
        }
    }

    /** Whether the next graphs run on the spinning pool ({@link #spinBetweenGraphs}). */
    public boolean spinning() {
        return spinning;
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
     * the count set here, so it may change between any two graphs. Fewer than all threads leave
     * the spinning pool ({@link #spinBetweenGraphs}).
     */
    public void activeThreads(int threads) {
        if (!cpu) {
            return;
        }
        if (threads < 1 || threads > maxThreads) {
            throw new IllegalArgumentException("active threads must be in 1.." + maxThreads + ": " + threads);
        }
        if (threads != activeThreads) {
            if (threads < maxThreads) {
                spinBetweenGraphs(false);
            }
            CpuBackendProcs.get().setThreads(pointer(), threads);
            activeThreads = threads;
        }
    }

    /**
     * The kernel thread ids of the (sleeping) pool's workers in the order of their index (worker 1 first),
     * so that their scheduling can be watched; empty where they could not be told apart (an
     * OpenMP build, or another thread started at the same moment).
     */
    public long[] workerThreadIds() {
        return workerThreadIds.clone();
    }

    /** {@link #workerThreadIds()} of the spinning pool ({@link #spinBetweenGraphs}); empty where there is none. */
    public long[] spinningWorkerThreadIds() {
        return spinningWorkerThreadIds.clone();
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
        if (spinningPool != null) {
            spinningPool.close();
            spinningPool = null;
        }
    }

    @Override
    public String toString() {
        return "Backend[" + name + "]";
    }
}
