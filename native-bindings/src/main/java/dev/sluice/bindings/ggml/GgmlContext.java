package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeLibraries;
import dev.sluice.bindings.raw.ggml_init_params;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * A ggml context holding tensor and graph metadata only ({@code no_alloc}): tensor data always
 * lives in backend buffers. The op methods add nodes to a computation; nothing is computed until
 * a {@link Backend} runs a {@link Graph}.
 *
 * <p>Engine-thread only. {@link #close()} frees the metadata of every tensor and graph made here;
 * using one of them afterwards throws {@link IllegalStateException}.
 */
public final class GgmlContext implements AutoCloseable {

    private static final int PREC_F32 = 10;

    private MemorySegment ctx;
    /** Made here, for new tensors (not adopted: a GGUF file's context is full by design, and only read). */
    private final boolean forNewTensors;

    private GgmlContext(MemorySegment ctx, boolean forNewTensors) {
        if (ctx.equals(MemorySegment.NULL)) {
            throw new NativeException("ggml_init failed");
        }
        this.ctx = ctx;
        this.forNewTensors = forNewTensors;
    }

    /** A context with room for {@code maxTensors} tensors and one graph of {@code graphNodes} nodes. */
    public static GgmlContext create(int maxTensors, int graphNodes) {
        NativeLibraries.ensureLoaded();
        long bytes = llama_cpp.ggml_tensor_overhead() * maxTensors
                + (graphNodes > 0 ? llama_cpp.ggml_graph_overhead_custom(graphNodes, false) : 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = ggml_init_params.allocate(arena);
            ggml_init_params.mem_size(params, bytes);
            ggml_init_params.mem_buffer(params, MemorySegment.NULL);
            ggml_init_params.no_alloc(params, true);
            return new GgmlContext(llama_cpp.ggml_init(params), true);
        }
    }

    /** Takes ownership of a context ggml created elsewhere (e.g. by {@code gguf_init_from_file}). */
    public static GgmlContext adopt(MemorySegment ctx) {
        return new GgmlContext(ctx, false);
    }

    void checkOpen() {
        if (ctx == null) {
            throw new IllegalStateException("GgmlContext is closed");
        }
    }

    /**
     * The context, for a call that adds one tensor (every op and view does). ggml aborts the
     * process when a context has no room left for a tensor's metadata; a graph larger than its
     * builder estimated fails here instead, as an exception the step's requests can get.
     */
    MemorySegment pointer() {
        checkOpen();
        if (forNewTensors && llama_cpp.ggml_used_mem(ctx) + llama_cpp.ggml_tensor_overhead() > llama_cpp.ggml_get_mem_size(ctx)) {
            throw new NativeException("ggml context full: no room for another tensor ("
                    + llama_cpp.ggml_get_mem_size(ctx) + " bytes)");
        }
        return ctx;
    }

    public boolean isOpen() {
        return ctx != null;
    }

    /** The tensor of that name, if this context has one. */
    public Optional<Tensor> tensor(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment t = llama_cpp.ggml_get_tensor(pointer(), arena.allocateFrom(name));
            return t.equals(MemorySegment.NULL) ? Optional.empty() : Optional.of(new Tensor(this, t));
        }
    }

    // ---- new tensors -------------------------------------------------------------------------

    public Tensor newTensor(GgmlType type, long ne0) {
        return wrap(llama_cpp.ggml_new_tensor_1d(pointer(), type.id(), ne0));
    }

    public Tensor newTensor(GgmlType type, long ne0, long ne1) {
        return wrap(llama_cpp.ggml_new_tensor_2d(pointer(), type.id(), ne0, ne1));
    }

    public Tensor newTensor(GgmlType type, long ne0, long ne1, long ne2) {
        return wrap(llama_cpp.ggml_new_tensor_3d(pointer(), type.id(), ne0, ne1, ne2));
    }

    public Tensor newTensor(GgmlType type, long ne0, long ne1, long ne2, long ne3) {
        return wrap(llama_cpp.ggml_new_tensor_4d(pointer(), type.id(), ne0, ne1, ne2, ne3));
    }

    public Graph newGraph(int maxNodes) {
        checkOpen();
        if (llama_cpp.ggml_used_mem(ctx) + llama_cpp.ggml_graph_overhead_custom(maxNodes, false) > llama_cpp.ggml_get_mem_size(ctx)) {
            throw new NativeException("ggml context full: no room for a graph of " + maxNodes + " nodes");
        }
        return new Graph(this, llama_cpp.ggml_new_graph_custom(ctx, maxNodes, false));
    }

    // ---- ops ---------------------------------------------------------------------------------

    /** Rows of {@code data} selected by the I32 indices in {@code rows}; the result is F32. */
    public Tensor getRows(Tensor data, Tensor rows) {
        return wrap(llama_cpp.ggml_get_rows(pointer(), data.pointer(), rows.pointer()));
    }

    /** Writes the rows of {@code source} into {@code destination} at the I64 indices {@code rows}. */
    public Tensor setRows(Tensor destination, Tensor source, Tensor rows) {
        return wrap(llama_cpp.ggml_set_rows(pointer(), destination.pointer(), source.pointer(), rows.pointer()));
    }

    /** {@code a^T b}: ggml's matrix product (rows of {@code a} dotted with rows of {@code b}). */
    public Tensor mulMat(Tensor a, Tensor b) {
        return wrap(llama_cpp.ggml_mul_mat(pointer(), a.pointer(), b.pointer()));
    }

    public Tensor add(Tensor a, Tensor b) {
        return wrap(llama_cpp.ggml_add(pointer(), a.pointer(), b.pointer()));
    }

    public Tensor mul(Tensor a, Tensor b) {
        return wrap(llama_cpp.ggml_mul(pointer(), a.pointer(), b.pointer()));
    }

    public Tensor scale(Tensor a, float s) {
        return wrap(llama_cpp.ggml_scale(pointer(), a.pointer(), s));
    }

    public Tensor rmsNorm(Tensor a, float eps) {
        return wrap(llama_cpp.ggml_rms_norm(pointer(), a.pointer(), eps));
    }

    /** {@code silu(gate) * up}, fused. */
    public Tensor swigluSplit(Tensor gate, Tensor up) {
        return wrap(llama_cpp.ggml_swiglu_split(pointer(), gate.pointer(), up.pointer()));
    }

    /** Rotary position embedding of {@code a} ([head_dim, heads, tokens]) at the I32 {@code positions}. */
    public Tensor rope(Tensor a, Tensor positions, Tensor freqFactors, RopeParams p) {
        return wrap(llama_cpp.ggml_rope_ext(pointer(), a.pointer(), positions.pointer(),
                freqFactors == null ? MemorySegment.NULL : freqFactors.pointer(),
                p.dimensions(), p.mode(), p.originalContext(), p.freqBase(), p.freqScale(),
                p.extFactor(), p.attnFactor(), p.betaFast(), p.betaSlow()));
    }

    /**
     * Fused attention: softmax(scale * K^T Q + mask) V with F32 accumulation.
     * q: [head_dim, tokens, heads, streams]; k, v: [head_dim, kv, kv_heads, streams] in F16;
     * mask: F16 [kv, tokens, 1, streams], 0 to attend and -inf to skip.
     * The result is [head_dim, heads, tokens, streams] (heads and tokens swapped).
     */
    public Tensor flashAttention(Tensor q, Tensor k, Tensor v, Tensor mask, float scale) {
        MemorySegment result = llama_cpp.ggml_flash_attn_ext(pointer(), q.pointer(), k.pointer(), v.pointer(),
                mask.pointer(), scale, 0f, 0f);
        llama_cpp.ggml_prec_set_acc(result, PREC_F32);
        return wrap(result);
    }

    public Tensor reshape(Tensor a, long ne0, long ne1) {
        return wrap(llama_cpp.ggml_reshape_2d(pointer(), a.pointer(), ne0, ne1));
    }

    public Tensor reshape(Tensor a, long ne0, long ne1, long ne2) {
        return wrap(llama_cpp.ggml_reshape_3d(pointer(), a.pointer(), ne0, ne1, ne2));
    }

    public Tensor reshape(Tensor a, long ne0, long ne1, long ne2, long ne3) {
        return wrap(llama_cpp.ggml_reshape_4d(pointer(), a.pointer(), ne0, ne1, ne2, ne3));
    }

    public Tensor view1d(Tensor a, long ne0, long offset) {
        return wrap(llama_cpp.ggml_view_1d(pointer(), a.pointer(), ne0, offset));
    }

    public Tensor view2d(Tensor a, long ne0, long ne1, long nb1, long offset) {
        return wrap(llama_cpp.ggml_view_2d(pointer(), a.pointer(), ne0, ne1, nb1, offset));
    }

    public Tensor view3d(Tensor a, long ne0, long ne1, long ne2, long nb1, long nb2, long offset) {
        return wrap(llama_cpp.ggml_view_3d(pointer(), a.pointer(), ne0, ne1, ne2, nb1, nb2, offset));
    }

    public Tensor view4d(Tensor a, long ne0, long ne1, long ne2, long ne3, long nb1, long nb2, long nb3, long offset) {
        return wrap(llama_cpp.ggml_view_4d(pointer(), a.pointer(), ne0, ne1, ne2, ne3, nb1, nb2, nb3, offset));
    }

    public Tensor permute(Tensor a, int axis0, int axis1, int axis2, int axis3) {
        return wrap(llama_cpp.ggml_permute(pointer(), a.pointer(), axis0, axis1, axis2, axis3));
    }

    /** A contiguous copy of a (possibly strided) view. */
    public Tensor cont(Tensor a) {
        return wrap(llama_cpp.ggml_cont(pointer(), a.pointer()));
    }

    /** A copy converted to {@code type}. */
    public Tensor cast(Tensor a, GgmlType type) {
        return wrap(llama_cpp.ggml_cast(pointer(), a.pointer(), type.id()));
    }

    /** Copies {@code a} into {@code b} (converting types); returns a view of {@code b}. */
    public Tensor copy(Tensor a, Tensor b) {
        return wrap(llama_cpp.ggml_cpy(pointer(), a.pointer(), b.pointer()));
    }

    /**
     * A view of {@code a}'s bytes as elements of {@code type}: rows keep their byte length, so
     * {@code ne[0]} scales with the element sizes. Both types must be plain (not block-quantized)
     * and {@code a}'s rows contiguous. ggml has no such op; the view is made with {@code a}'s type,
     * then its type and first dimension are set, which ggml reads only when the view is used.
     */
    public Tensor reinterpret(Tensor a, GgmlType type) {
        GgmlType from = a.type();
        long fromSize = from.blockBytes();
        long toSize = type.blockBytes();
        if (from.blockSize() != 1 || type.blockSize() != 1) {
            throw new IllegalArgumentException("cannot reinterpret " + from + " as " + type + ": block-quantized");
        }
        if (a.nb(0) != fromSize || (a.ne(0) * fromSize) % toSize != 0) {
            throw new IllegalArgumentException("cannot reinterpret rows of " + a.ne(0) + " " + from + " as " + type);
        }
        Tensor view = view4d(a, a.ne(0), a.ne(1), a.ne(2), a.ne(3), a.nb(1), a.nb(2), a.nb(3), 0);
        MemorySegment t = view.pointer();
        dev.sluice.bindings.raw.ggml_tensor.type(t, type.id());
        dev.sluice.bindings.raw.ggml_tensor.ne(t, 0, a.ne(0) * fromSize / toSize);
        dev.sluice.bindings.raw.ggml_tensor.nb(t, 0, toSize);
        return view;
    }

    /**
     * Writes {@code b}'s rows into {@code a}'s memory in place, row {@code r} at byte
     * {@code offset + r * nb1}; returns a view of {@code a} that depends on the write.
     */
    public Tensor set2dInPlace(Tensor a, Tensor b, long nb1, long offset) {
        return wrap(llama_cpp.ggml_set_2d_inplace(pointer(), a.pointer(), b.pointer(), nb1, offset));
    }

    public Tensor concat(Tensor a, Tensor b, int dim) {
        return wrap(llama_cpp.ggml_concat(pointer(), a.pointer(), b.pointer(), dim));
    }

    /** {@code a} with dimensions 0 and 1 swapped: a strided view. */
    public Tensor transpose(Tensor a) {
        return wrap(llama_cpp.ggml_transpose(pointer(), a.pointer()));
    }

    /**
     * {@code softmax(a * scale + mask)} along dimension 0, in F32. {@code mask} (F16 or F32, or
     * null) is [ne0, at least a's ne1, …] and broadcast over a's dimensions 2 and 3.
     */
    public Tensor softMax(Tensor a, Tensor mask, float scale) {
        return wrap(llama_cpp.ggml_soft_max_ext(pointer(), a.pointer(), mask == null ? MemorySegment.NULL : mask.pointer(),
                scale, 0f));
    }

    /**
     * Writes {@code b} (F32, rows contiguous) into contiguous F32 {@code a} at byte {@code offset},
     * viewing {@code a} with strides {@code nb1, nb2, nb3}; the result is a view of {@code a} that
     * orders every later read after the write.
     */
    public Tensor setInPlace(Tensor a, Tensor b, long nb1, long nb2, long nb3, long offset) {
        return wrap(llama_cpp.ggml_set_inplace(pointer(), a.pointer(), b.pointer(), nb1, nb2, nb3, offset));
    }

    private Tensor wrap(MemorySegment tensor) {
        return new Tensor(this, tensor);
    }

    @Override
    public void close() {
        if (ctx == null) {
            return;
        }
        llama_cpp.ggml_free(ctx);
        ctx = null;
    }
}
