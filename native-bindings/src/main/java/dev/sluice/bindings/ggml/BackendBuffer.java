package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeLibraries;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.MemorySegment;

/**
 * A backend buffer ({@code ggml_backend_buffer_t}) holding tensor data. A buffer wrapping Java-owned
 * host memory ({@link #wrapHost}) does not own that memory: the caller's {@code Arena} must outlive
 * the buffer. Engine-thread only; {@link #close()} is idempotent.
 */
public final class BackendBuffer implements AutoCloseable {

    /** ggml's CPU kernels read tensor data with aligned SIMD loads. */
    public static final long HOST_ALIGNMENT = 32;

    private MemorySegment buffer;
    private final MemorySegment host;

    BackendBuffer(MemorySegment buffer, MemorySegment host) {
        this.buffer = buffer;
        this.host = host;
    }

    /**
     * Lets the CPU backend use {@code memory} (an mmapped file, an {@code Arena} allocation) as a
     * buffer without copying. The memory must be {@value #HOST_ALIGNMENT}-byte aligned and outlive
     * the buffer.
     */
    public static BackendBuffer wrapHost(MemorySegment memory) {
        NativeLibraries.ensureLoaded();
        if (memory.address() % HOST_ALIGNMENT != 0) {
            throw new IllegalArgumentException("host memory for a CPU buffer must be " + HOST_ALIGNMENT + "-byte aligned");
        }
        MemorySegment buffer = llama_cpp.ggml_backend_cpu_buffer_from_ptr(memory, memory.byteSize());
        if (buffer.equals(MemorySegment.NULL)) {
            throw new NativeException("ggml_backend_cpu_buffer_from_ptr failed");
        }
        return new BackendBuffer(buffer, memory);
    }

    MemorySegment pointer() {
        if (buffer == null) {
            throw new IllegalStateException("BackendBuffer is closed");
        }
        return buffer;
    }

    public long size() {
        return llama_cpp.ggml_backend_buffer_get_size(pointer());
    }

    public boolean isHost() {
        return llama_cpp.ggml_backend_buffer_is_host(pointer());
    }

    /** The buffer's memory, for host buffers; throws for device buffers. */
    public MemorySegment hostMemory() {
        pointer();
        if (host != null) {
            return host;
        }
        if (!isHost()) {
            throw new IllegalStateException("buffer is not in host memory");
        }
        return llama_cpp.ggml_backend_buffer_get_base(buffer).reinterpret(size());
    }

    /** Places an unallocated tensor at {@code offset} bytes into this buffer. */
    public void place(Tensor tensor, long offset) {
        long bytes = tensor.bytes();
        if (offset < 0 || offset + bytes > size()) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " (" + bytes + " bytes at " + offset
                    + ") does not fit the buffer of " + size() + " bytes");
        }
        if (tensor.isAllocated()) {
            throw new IllegalStateException("tensor " + tensor.name() + " already has data");
        }
        MemorySegment base = llama_cpp.ggml_backend_buffer_get_base(pointer());
        int status = llama_cpp.ggml_backend_tensor_alloc(buffer, tensor.pointer(),
                MemorySegment.ofAddress(base.address() + offset));
        if (status != 0) {
            throw new NativeException("ggml_backend_tensor_alloc failed for " + tensor.name() + " (status " + status + ")");
        }
    }

    /** Sets every byte to {@code value}. */
    public void clear(int value) {
        llama_cpp.ggml_backend_buffer_clear(pointer(), (byte) value);
    }

    @Override
    public void close() {
        if (buffer == null) {
            return;
        }
        llama_cpp.ggml_backend_buffer_free(buffer);
        buffer = null;
    }
}
