package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeStrings;
import dev.sluice.bindings.raw.ggml_tensor;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A {@code ggml_tensor} owned by a {@link GgmlContext}: shape, strides, type, and where its data
 * lives once allocated. Valid while its context is open; using it afterwards throws
 * {@link IllegalStateException} instead of touching freed memory.
 */
public final class Tensor {

    private static final long STRUCT_SIZE = ggml_tensor.layout().byteSize();

    private final GgmlContext owner;
    private final MemorySegment struct;

    Tensor(GgmlContext owner, MemorySegment pointer) {
        if (pointer.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("ggml returned no tensor (context out of metadata memory?)");
        }
        this.owner = owner;
        this.struct = pointer.reinterpret(STRUCT_SIZE);
    }

    /** The native {@code ggml_tensor *}; throws once the owning context is closed. */
    MemorySegment pointer() {
        owner.checkOpen();
        return struct;
    }

    public GgmlContext context() {
        return owner;
    }

    public GgmlType type() {
        return GgmlType.of(ggml_tensor.type(pointer()));
    }

    /** Elements along dimension {@code dim} (0 = innermost, the row). */
    public long ne(int dim) {
        return ggml_tensor.ne(pointer(), dim);
    }

    /** Stride in bytes along dimension {@code dim}. */
    public long nb(int dim) {
        return ggml_tensor.nb(pointer(), dim);
    }

    public long[] shape() {
        MemorySegment t = pointer();
        return new long[] {ggml_tensor.ne(t, 0), ggml_tensor.ne(t, 1), ggml_tensor.ne(t, 2), ggml_tensor.ne(t, 3)};
    }

    public long elements() {
        return llama_cpp.ggml_nelements(pointer());
    }

    /** Bytes the tensor's data spans. */
    public long bytes() {
        return llama_cpp.ggml_nbytes(pointer());
    }

    public boolean isContiguous() {
        return llama_cpp.ggml_is_contiguous(pointer());
    }

    public String name() {
        return NativeStrings.read(llama_cpp.ggml_get_name(pointer()));
    }

    public Tensor name(String name) {
        try (Arena arena = Arena.ofConfined()) {
            llama_cpp.ggml_set_name(pointer(), arena.allocateFrom(name));
        }
        return this;
    }

    /** Marks the tensor as a graph input, so the allocator never reuses its memory before use. */
    public Tensor asInput() {
        llama_cpp.ggml_set_input(pointer());
        return this;
    }

    /** Marks the tensor as a graph output, so the allocator keeps it intact after compute. */
    public Tensor asOutput() {
        llama_cpp.ggml_set_output(pointer());
        return this;
    }

    /** True once the tensor has memory in some backend buffer. */
    public boolean isAllocated() {
        MemorySegment t = pointer();
        return !ggml_tensor.data(t).equals(MemorySegment.NULL) || !ggml_tensor.buffer(t).equals(MemorySegment.NULL);
    }

    /**
     * The tensor's data in host memory, for tensors in CPU buffers only (it is a device address
     * otherwise). The segment is valid until the buffer is freed or the graph reallocated.
     */
    public MemorySegment hostData() {
        MemorySegment data = ggml_tensor.data(pointer());
        if (data.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("tensor " + name() + " has no data yet");
        }
        return data.reinterpret(bytes());
    }

    /** Copies {@code source} into the tensor's data at {@code offset} bytes, on any backend. */
    public void write(MemorySegment source, long offset) {
        llama_cpp.ggml_backend_tensor_set(pointer(), source, offset, source.byteSize());
    }

    /** Copies {@code target.byteSize()} bytes of the tensor's data from {@code offset} into {@code target}. */
    public void read(MemorySegment target, long offset) {
        llama_cpp.ggml_backend_tensor_get(pointer(), target, offset, target.byteSize());
    }

    @Override
    public String toString() {
        return "Tensor[" + name() + " " + type() + " " + java.util.Arrays.toString(shape()) + "]";
    }
}
