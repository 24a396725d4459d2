package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.MemorySegment;

/**
 * ggml's graph allocator ({@code ggml_gallocr}): places a graph's intermediate tensors in one
 * reusable compute buffer on a backend, reusing memory between tensors whose lifetimes do not
 * overlap. The buffer grows to the largest graph seen and is kept across steps.
 */
public final class GraphAllocator implements AutoCloseable {

    private MemorySegment allocator;

    private GraphAllocator(MemorySegment allocator) {
        this.allocator = allocator;
    }

    public static GraphAllocator forBackend(Backend backend) {
        MemorySegment allocator = llama_cpp.ggml_gallocr_new(backend.defaultBufferType());
        if (allocator.equals(MemorySegment.NULL)) {
            throw new NativeException("ggml_gallocr_new failed");
        }
        return new GraphAllocator(allocator);
    }

    private MemorySegment pointer() {
        if (allocator == null) {
            throw new IllegalStateException("GraphAllocator is closed");
        }
        return allocator;
    }

    /** Sizes the compute buffer for {@code worstCase} up front, so later graphs need no reallocation. */
    public void reserve(Graph worstCase) {
        if (!llama_cpp.ggml_gallocr_reserve(pointer(), worstCase.pointer())) {
            throw new NativeException("could not reserve the compute buffer (out of memory?)");
        }
    }

    /** Allocates every unallocated tensor of the graph, growing the buffer if needed. */
    public void allocate(Graph graph) {
        if (!llama_cpp.ggml_gallocr_alloc_graph(pointer(), graph.pointer())) {
            throw new NativeException("could not allocate the compute graph (out of memory?)");
        }
    }

    public long bufferBytes() {
        return llama_cpp.ggml_gallocr_get_buffer_size(pointer(), 0);
    }

    @Override
    public void close() {
        if (allocator == null) {
            return;
        }
        llama_cpp.ggml_gallocr_free(allocator);
        allocator = null;
    }
}
