package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The CPU backend's own functions, resolved through ggml's backend registry
 * ({@code ggml_backend_reg_get_proc_address}) instead of the symbol table. With dynamically
 * loaded backends ({@code GGML_BACKEND_DL}) the CPU code lives in a variant library that ggml
 * opened itself, invisible to Java's lookup; the registry finds it in every build.
 */
final class CpuBackendProcs {

    private static volatile CpuBackendProcs instance;

    private final MethodHandle setThreads;
    private final MethodHandle threadpoolNew;
    private final MethodHandle threadpoolFree;
    private final MethodHandle setThreadpool;

    private CpuBackendProcs(MemorySegment registry) {
        // Written out by hand: jextract's descriptor accessors would look the symbols up first.
        setThreads = handle(registry, "ggml_backend_set_n_threads", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT));
        threadpoolNew = handle(registry, "ggml_threadpool_new", FunctionDescriptor.of(ADDRESS, ADDRESS));
        threadpoolFree = handle(registry, "ggml_threadpool_free", FunctionDescriptor.ofVoid(ADDRESS));
        setThreadpool = handle(registry, "ggml_backend_cpu_set_threadpool", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    }

    static CpuBackendProcs get() {
        CpuBackendProcs procs = instance;
        if (procs == null) {
            synchronized (CpuBackendProcs.class) {
                if (instance == null) {
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment registry = llama_cpp.ggml_backend_reg_by_name(arena.allocateFrom("CPU"));
                        if (registry.equals(MemorySegment.NULL)) {
                            throw new NativeException("the CPU backend is not registered");
                        }
                        instance = new CpuBackendProcs(registry);
                    }
                }
                procs = instance;
            }
        }
        return procs;
    }

    void setThreads(MemorySegment backend, int threads) {
        try {
            setThreads.invokeExact(backend, threads);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    MemorySegment newThreadpool(MemorySegment params) {
        try {
            return (MemorySegment) threadpoolNew.invokeExact(params);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void freeThreadpool(MemorySegment threadpool) {
        try {
            threadpoolFree.invokeExact(threadpool);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void setThreadpool(MemorySegment backend, MemorySegment threadpool) {
        try {
            setThreadpool.invokeExact(backend, threadpool);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static MethodHandle handle(MemorySegment registry, String name, FunctionDescriptor descriptor) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment address = llama_cpp.ggml_backend_reg_get_proc_address(registry, arena.allocateFrom(name));
            if (address.equals(MemorySegment.NULL)) {
                throw new NativeException("the CPU backend does not export " + name);
            }
            return Linker.nativeLinker().downcallHandle(address, descriptor);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new NativeException("native call failed", t);
    }
}
