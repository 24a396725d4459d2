package dev.sluice.engine.kv;

import dev.sluice.bindings.HostMemory;
import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.ggml.BackendBuffer;
import dev.sluice.bindings.ggml.GgmlContext;
import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.bindings.ggml.Tensor;
import dev.sluice.engine.model.ModelConfig;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The physical, paged KV cache: for every layer a K pool and a V pool of
 * {@code blocks × blockSize} slots, one row of {@code kvDim} elements per slot. A token's K/V
 * row lives at slot {@code block * blockSize + offset}; which blocks belong to which sequence is
 * the scheduler's business (block tables), never this class's.
 *
 * <p>On the CPU backend all pools live in one off-heap segment that this class maps from its own
 * {@link Arena} ({@link HostMemory}: committed page by page as blocks are first used), so its
 * size, lifetime and accounting are Java's; on other backends in one device buffer. Engine-thread only; {@link #close()} is idempotent.
 *
 * <p>Within a layer's pool a block's rows are contiguous, so copy-on-write and swapping move
 * {@code 2 × layers} contiguous ranges per block.
 *
 * <p><b>Transposed V</b> ({@link #transposedValues()}): on the CPU with an F16 cache each V pool is
 * kept as llama.cpp keeps it without flash attention, [slots, kvDim]: one row of all slots per V
 * element, so a run of consecutive slots is, per element, a contiguous span. Attention's
 * {@code Vᵀ × weights} product reads its Vᵀ [L, hd] straight from the pool instead of copying V
 * into that layout every layer (the copy was half of the decode attention: 155 of 328 ms of a
 * one-thread step of 32 sequences over 512 positions). A block is then {@code kvDim} spans of
 * {@code blockSize} elements per V pool; copy-on-write and swapping move those.
 * {@code -Dsluice.v-layout=rows} keeps V in rows.
 */
public final class KvCache implements AutoCloseable {

    /** Cache element types: F16 (default, exact for attention) or Q8_0 (half the memory). */
    public enum CacheType {
        F16(GgmlType.F16), Q8_0(GgmlType.Q8_0);

        final GgmlType ggml;

        CacheType(GgmlType ggml) {
            this.ggml = ggml;
        }

        public GgmlType ggmlType() {
            return ggml;
        }
    }

    private final ModelConfig model;
    private final int blockSize;
    private final int blocks;
    private final CacheType type;
    private final long rowBytes;
    private final long layerPoolBytes;
    private final Arena arena;
    private final MemorySegment host;
    private final GgmlContext ctx;
    private final BackendBuffer buffer;
    private final List<Tensor> keys;
    private final List<Tensor> values;
    private final boolean transposedValues;
    private boolean closed;

    /** A cache whose V pools are transposed where {@link #transposesValues} says so. */
    public KvCache(ModelConfig model, Backend backend, int blockSize, int blocks, CacheType type) {
        // Gather rows index (V element, block) pairs as I32.
        this(model, backend, blockSize, blocks, type,
                transposesValues(backend, type, blockSize) && (long) blocks * model.kvDim() <= Integer.MAX_VALUE);
    }

    /** @param transposedValues keep each V pool as [slots, kvDim] (CPU, F16, even block size only) */
    public KvCache(ModelConfig model, Backend backend, int blockSize, int blocks, CacheType type, boolean transposedValues) {
        if (blockSize <= 0 || blocks <= 0) {
            throw new IllegalArgumentException("block size and block count must be positive: " + blockSize + ", " + blocks);
        }
        if (model.kvDim() % type.ggml.blockSize() != 0) {
            throw new IllegalArgumentException("a " + type + " KV cache needs rows of a multiple of "
                    + type.ggml.blockSize() + " elements; this model's are " + model.kvDim());
        }
        if (transposedValues && !(backend.isCpu() && type == CacheType.F16 && blockSize % 2 == 0
                && (long) blocks * model.kvDim() <= Integer.MAX_VALUE)) {
            throw new IllegalArgumentException("transposed V pools need the CPU backend, an F16 cache, an even block size"
                    + " and fewer than 2^31 (V element, block) pairs");
        }
        this.transposedValues = transposedValues;
        this.model = model;
        this.blockSize = blockSize;
        this.blocks = blocks;
        this.type = type;
        this.rowBytes = type.ggml.rowBytes(model.kvDim());
        this.layerPoolBytes = align(rowBytes * slots(), BackendBuffer.HOST_ALIGNMENT);
        long totalBytes = layerPoolBytes * 2L * model.layers();

        this.ctx = GgmlContext.create(2 * model.layers(), 0);
        if (backend.isCpu()) {
            this.arena = Arena.ofShared();
            // Zeroed (gathered padding rows stay finite) and committed lazily, as blocks are first used.
            this.host = HostMemory.reserve(totalBytes, arena);
            this.buffer = BackendBuffer.wrapHost(host);
        } else {
            this.arena = null;
            this.host = null;
            this.buffer = backend.allocateBuffer(totalBytes);
            buffer.clear(0);
        }
        List<Tensor> k = new ArrayList<>(model.layers());
        List<Tensor> v = new ArrayList<>(model.layers());
        for (int layer = 0; layer < model.layers(); layer++) {
            Tensor kt = ctx.newTensor(type.ggml, model.kvDim(), slots()).name("cache_k_l" + layer);
            Tensor vt = (transposedValues ? ctx.newTensor(type.ggml, slots(), model.kvDim())
                    : ctx.newTensor(type.ggml, model.kvDim(), slots())).name("cache_v_l" + layer);
            buffer.place(kt, keyOffset(layer));
            buffer.place(vt, valueOffset(layer));
            k.add(kt);
            v.add(vt);
        }
        this.keys = List.copyOf(k);
        this.values = List.copyOf(v);
    }

    /**
     * Whether a cache on {@code backend} keeps its V pools transposed by default: on the CPU
     * (where attention reads V through matrix products) with an F16 cache and an even block size
     * (blocks are gathered as pairs of F16), unless {@code -Dsluice.v-layout=rows}.
     */
    public static boolean transposesValues(Backend backend, CacheType type, int blockSize) {
        return backend.isCpu() && type == CacheType.F16 && blockSize % 2 == 0
                && !"rows".equalsIgnoreCase(System.getProperty("sluice.v-layout", "auto").strip());
    }

    /** Bytes one token occupies across all layers (K and V). */
    public static long bytesPerToken(ModelConfig model, CacheType type) {
        return type.ggml.rowBytes(model.kvDim()) * 2L * model.layers();
    }

    /** How many blocks fit in {@code budgetBytes}. */
    public static int blocksForBudget(ModelConfig model, CacheType type, int blockSize, long budgetBytes) {
        long perBlock = bytesPerToken(model, type) * blockSize;
        return (int) Math.min(Integer.MAX_VALUE, budgetBytes / perBlock);
    }

    public int blockSize() {
        return blockSize;
    }

    public int blocks() {
        return blocks;
    }

    /** Token slots in the whole pool. */
    public int slots() {
        return blocks * blockSize;
    }

    public CacheType type() {
        return type;
    }

    public long bytes() {
        return layerPoolBytes * 2L * model.layers();
    }

    /** Bytes one block occupies across all layers (K and V): the size of a swap slot. */
    public long blockBytes() {
        return rowBytes * blockSize * 2L * model.layers();
    }

    /** Layer {@code layer}'s K pool, [kvDim, slots]. */
    public Tensor keys(int layer) {
        checkOpen();
        return keys.get(layer);
    }

    /** Whether the V pools are [slots, kvDim] (see the class comment) rather than [kvDim, slots]. */
    public boolean transposedValues() {
        return transposedValues;
    }

    /** Layer {@code layer}'s V pool, [kvDim, slots], or [slots, kvDim] when {@link #transposedValues()}. */
    public Tensor values(int layer) {
        checkOpen();
        return values.get(layer);
    }

    /** Copies every layer's K and V rows of block {@code source} into block {@code target} (copy-on-write). */
    public void copyBlock(int source, int target) {
        copyBlocks(source, target, 1);
    }

    /**
     * Copies every layer's K and V rows of the {@code count} consecutive blocks from
     * {@code source} into those from {@code target}: one copy per layer and pool, however many
     * blocks (a prefix moved into place is tens of them).
     */
    public void copyBlocks(int source, int target, int count) {
        checkBlock(source);
        checkBlock(target);
        checkBlock(source + count - 1);
        checkBlock(target + count - 1);
        if (source == target) {
            return;
        }
        long span = rowBytes * blockSize * count;
        if (host != null) {
            for (int layer = 0; layer < model.layers(); layer++) {
                long base = keyOffset(layer);
                MemorySegment.copy(host, base + source * rowBytes * blockSize, host, base + target * rowBytes * blockSize, span);
                if (transposedValues) {
                    // kvDim spans of count * blockSize elements, one per V element.
                    long elements = (long) blockSize * count * Short.BYTES;
                    for (long d = 0; d < model.kvDim(); d++) {
                        long row = valueOffset(layer) + d * slots() * Short.BYTES;
                        MemorySegment.copy(host, row + (long) source * blockSize * Short.BYTES, host,
                                row + (long) target * blockSize * Short.BYTES, elements);
                    }
                } else {
                    base = valueOffset(layer);
                    MemorySegment.copy(host, base + source * rowBytes * blockSize, host, base + target * rowBytes * blockSize, span);
                }
            }
        } else {
            try (Arena staging = Arena.ofConfined()) {
                MemorySegment tmp = staging.allocate(span);
                for (int layer = 0; layer < model.layers(); layer++) {
                    for (Tensor pool : List.of(keys.get(layer), values.get(layer))) {
                        pool.read(tmp, source * rowBytes * blockSize);
                        pool.write(tmp, target * rowBytes * blockSize);
                    }
                }
            }
        }
    }

    /** Copies block {@code block} (all layers, K and V) into {@code target}, {@link #blockBytes()} long. */
    public void swapOut(int block, MemorySegment target) {
        checkBlock(block);
        checkSwapSlot(target);
        long span = rowBytes * blockSize;
        long at = 0;
        for (int layer = 0; layer < model.layers(); layer++) {
            for (int kv = 0; kv < 2; kv++) {
                long base = kv == 0 ? keyOffset(layer) : valueOffset(layer);
                MemorySegment out = target.asSlice(at, span);
                if (kv == 1 && transposedValues) {
                    transposedSpans(block, out, true, base);
                } else if (host != null) {
                    MemorySegment.copy(host, base + block * span, out, 0, span);
                } else {
                    (kv == 0 ? keys : values).get(layer).read(out, block * span);
                }
                at += span;
            }
        }
    }

    /** Restores block {@code block} from a {@link #swapOut} copy. */
    public void swapIn(MemorySegment source, int block) {
        checkBlock(block);
        checkSwapSlot(source);
        long span = rowBytes * blockSize;
        long at = 0;
        for (int layer = 0; layer < model.layers(); layer++) {
            for (int kv = 0; kv < 2; kv++) {
                long base = kv == 0 ? keyOffset(layer) : valueOffset(layer);
                MemorySegment in = source.asSlice(at, span);
                if (kv == 1 && transposedValues) {
                    transposedSpans(block, in, false, base);
                } else if (host != null) {
                    MemorySegment.copy(in, 0, host, base + block * span, span);
                } else {
                    (kv == 0 ? keys : values).get(layer).write(in, block * span);
                }
                at += span;
            }
        }
    }

    /**
     * Copies a block of a transposed V pool at {@code poolBase} to ({@code out}) or from
     * {@code copy}: its {@code kvDim} spans of {@code blockSize} elements, one after another.
     */
    private void transposedSpans(int block, MemorySegment copy, boolean out, long poolBase) {
        long spanBytes = (long) blockSize * Short.BYTES;
        for (long d = 0; d < model.kvDim(); d++) {
            long at = poolBase + (d * slots() + (long) block * blockSize) * Short.BYTES;
            if (out) {
                MemorySegment.copy(host, at, copy, d * spanBytes, spanBytes);
            } else {
                MemorySegment.copy(copy, d * spanBytes, host, at, spanBytes);
            }
        }
    }

    private long keyOffset(int layer) {
        return 2L * layer * layerPoolBytes;
    }

    private long valueOffset(int layer) {
        return (2L * layer + 1) * layerPoolBytes;
    }

    private void checkBlock(int block) {
        checkOpen();
        if (block < 0 || block >= blocks) {
            throw new IndexOutOfBoundsException("block " + block + " outside [0, " + blocks + ")");
        }
    }

    private void checkSwapSlot(MemorySegment slot) {
        if (slot.byteSize() < blockBytes()) {
            throw new IllegalArgumentException("swap slot of " + slot.byteSize() + " bytes is smaller than a block ("
                    + blockBytes() + " bytes)");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("KvCache is closed");
        }
    }

    private static long align(long n, long alignment) {
        return (n + alignment - 1) / alignment * alignment;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        buffer.close();
        ctx.close();
        if (arena != null) {
            arena.close();
        }
    }
}
