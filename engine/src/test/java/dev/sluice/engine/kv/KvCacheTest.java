package dev.sluice.engine.kv;

import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.ggml.GgmlContext;
import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.bindings.ggml.Graph;
import dev.sluice.bindings.ggml.GraphAllocator;
import dev.sluice.bindings.ggml.Tensor;
import dev.sluice.engine.model.Architecture;
import dev.sluice.engine.model.ModelConfig;
import dev.sluice.engine.model.Pooling;
import dev.sluice.engine.model.RopeScaling;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvCacheTest {

    private static final ModelConfig MODEL = new ModelConfig(Architecture.LLAMA, "kv-test", 64, 3, 4, 2, 16, 128,
            100, 256, 1e-5f, 10000f, 16, RopeScaling.none(256), true, Pooling.NONE);

    private Backend cpu;
    private KvCache cache;

    @BeforeEach
    void open() {
        cpu = Backend.cpu(1);
        cache = new KvCache(MODEL, cpu, 4, 10, KvCache.CacheType.F16, false);
    }

    /** Replaces the cache with one whose V pools are {@code transposed} or in rows. */
    private void reopen(boolean transposed) {
        cache.close();
        cache = new KvCache(MODEL, cpu, 4, 10, KvCache.CacheType.F16, transposed);
    }

    @AfterEach
    void close() {
        cache.close();
        cpu.close();
    }

    @Test
    void valuesAreTransposedOnTheCpuForF16CachesWithEvenBlocks() {
        try (KvCache byDefault = new KvCache(MODEL, cpu, 4, 10, KvCache.CacheType.F16);
             KvCache quantized = new KvCache(MODEL, cpu, 4, 10, KvCache.CacheType.Q8_0);
             KvCache oddBlocks = new KvCache(MODEL, cpu, 5, 10, KvCache.CacheType.F16)) {
            assertTrue(byDefault.transposedValues());
            assertEquals(40, byDefault.values(0).ne(0));
            assertEquals(32, byDefault.values(0).ne(1));
            assertEquals(32, byDefault.keys(0).ne(0), "K stays in rows");
            assertFalse(quantized.transposedValues(), "a quantized row cannot be split per element");
            assertFalse(oddBlocks.transposedValues(), "blocks are gathered as pairs of F16");
            assertEquals(cache.bytes(), byDefault.bytes());
        }
        assertThrows(IllegalArgumentException.class, () -> new KvCache(MODEL, cpu, 4, 10, KvCache.CacheType.Q8_0, true));
    }

    @Test
    void sizesFollowTheModel() {
        assertEquals(40, cache.slots());
        assertEquals(32L * 2 * 2 * 3, KvCache.bytesPerToken(MODEL, KvCache.CacheType.F16)); // kvDim 32, F16, K+V, 3 layers
        assertEquals(KvCache.bytesPerToken(MODEL, KvCache.CacheType.F16) * 4, cache.blockBytes());
        assertEquals(10, KvCache.blocksForBudget(MODEL, KvCache.CacheType.F16, 4, cache.blockBytes() * 10 + 5));
        assertTrue(cache.bytes() >= cache.blockBytes() * 10);
        assertEquals(32, cache.keys(0).ne(0));
        assertEquals(40, cache.keys(0).ne(1));
    }

    @Test
    void rowsWrittenAtScatteredSlotsReadBackExactly() {
        int[] slots = {37, 2, 19, 8, 30};
        float[] rows = randomF16Representable(slots.length * 32, new Random(1));
        try (GgmlContext ctx = GgmlContext.create(8, 16);
             GraphAllocator allocator = GraphAllocator.forBackend(cpu);
             Arena arena = Arena.ofConfined()) {
            Tensor source = ctx.newTensor(GgmlType.F32, 32, slots.length).asInput();
            Tensor writeAt = ctx.newTensor(GgmlType.I64, slots.length).asInput();
            Tensor readAt = ctx.newTensor(GgmlType.I32, slots.length).asInput();
            Tensor written = ctx.setRows(cache.values(1), source, writeAt);
            Tensor readBack = ctx.getRows(written, readAt).asOutput();
            Graph graph = ctx.newGraph(16).expand(readBack);
            allocator.allocate(graph);
            source.write(arena.allocateFrom(ValueLayout.JAVA_FLOAT, rows), 0);
            long[] wide = new long[slots.length];
            for (int i = 0; i < slots.length; i++) {
                wide[i] = slots[i];
            }
            writeAt.write(arena.allocateFrom(ValueLayout.JAVA_LONG, wide), 0);
            readAt.write(arena.allocateFrom(ValueLayout.JAVA_INT, slots), 0);
            cpu.compute(graph);
            assertArrayEquals(rows, readBack.hostData().toArray(ValueLayout.JAVA_FLOAT));
            // and they landed in the V pool of layer 1 only, at those slots
            MemorySegment pool = cache.values(1).hostData();
            short expectedFirst = Float.floatToFloat16(rows[0]);
            assertEquals(expectedFirst, pool.get(ValueLayout.JAVA_SHORT, 37L * 32 * 2));
            assertEquals(0, cache.keys(1).hostData().get(ValueLayout.JAVA_SHORT, 37L * 32 * 2));
        }
    }

    @ParameterizedTest(name = "V transposed: {0}")
    @ValueSource(booleans = {false, true})
    void copyBlockCopiesEveryLayerBitExactly(boolean transposed) {
        reopen(transposed);
        fillRandom(new Random(2));
        byte[][] before = snapshotBlock(3);
        cache.copyBlock(3, 7);
        byte[][] after = snapshotBlock(7);
        for (int i = 0; i < before.length; i++) {
            assertArrayEquals(before[i], after[i], "pool " + i);
        }
        assertArrayEquals(before[0], snapshotBlock(3)[0], "source unchanged");
    }

    @ParameterizedTest(name = "V transposed: {0}")
    @ValueSource(booleans = {false, true})
    void copyBlocksCopiesAConsecutiveRunOfBlocksAndNothingAroundIt(boolean transposed) {
        reopen(transposed);
        fillRandom(new Random(5));
        byte[][][] before = {snapshotBlock(1), snapshotBlock(2), snapshotBlock(3)};
        byte[][] beyond = snapshotBlock(9);
        cache.copyBlocks(1, 6, 3);
        for (int b = 0; b < 3; b++) {
            byte[][] after = snapshotBlock(6 + b);
            for (int i = 0; i < after.length; i++) {
                assertArrayEquals(before[b][i], after[i], "block " + (6 + b) + ", pool " + i);
            }
        }
        byte[][] still = snapshotBlock(9);
        for (int i = 0; i < still.length; i++) {
            assertArrayEquals(beyond[i], still[i], "the block after the run is untouched");
        }
        assertThrows(IndexOutOfBoundsException.class, () -> cache.copyBlocks(0, 8, 3));
    }

    @ParameterizedTest(name = "V transposed: {0}")
    @ValueSource(booleans = {false, true})
    void swapOutAndInRoundTripsBitExactly(boolean transposed) {
        reopen(transposed);
        fillRandom(new Random(3));
        byte[][] original = snapshotBlock(5);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slot = arena.allocate(cache.blockBytes());
            cache.swapOut(5, slot);
            fillRandom(new Random(4)); // the block gets reused by someone else
            cache.swapIn(slot, 9);
            byte[][] restored = snapshotBlock(9);
            for (int i = 0; i < original.length; i++) {
                assertArrayEquals(original[i], restored[i], "pool " + i);
            }
            assertThrows(IllegalArgumentException.class, () -> cache.swapOut(1, slot.asSlice(0, 8)));
        }
    }

    @Test
    void rejectsBadBlocksAndUseAfterClose() {
        assertThrows(IndexOutOfBoundsException.class, () -> cache.copyBlock(0, 10));
        assertThrows(IndexOutOfBoundsException.class, () -> cache.copyBlock(-1, 0));
        KvCache other = new KvCache(MODEL, cpu, 4, 2, KvCache.CacheType.Q8_0);
        other.close();
        other.close();
        assertThrows(IllegalStateException.class, () -> other.keys(0));
        assertThrows(IllegalStateException.class, () -> other.copyBlock(0, 1));
    }

    @Test
    void q8CacheNeedsRowsOfWholeQuantBlocks() {
        ModelConfig narrow = new ModelConfig(Architecture.LLAMA, "narrow", 8, 1, 2, 1, 4, 16,
                10, 64, 1e-5f, 10000f, 4, RopeScaling.none(64), true, Pooling.NONE);
        assertThrows(IllegalArgumentException.class, () -> new KvCache(narrow, cpu, 4, 2, KvCache.CacheType.Q8_0));
    }

    private void fillRandom(Random random) {
        for (int layer = 0; layer < MODEL.layers(); layer++) {
            for (Tensor pool : new Tensor[] {cache.keys(layer), cache.values(layer)}) {
                MemorySegment data = pool.hostData();
                byte[] bytes = new byte[(int) data.byteSize()];
                random.nextBytes(bytes);
                MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, 0, bytes.length);
            }
        }
    }

    /** A block's bytes per pool; a transposed V pool's as its 32 spans of blockSize elements, read one by one. */
    private byte[][] snapshotBlock(int block) {
        long span = 32L * 2 * cache.blockSize();
        byte[][] out = new byte[MODEL.layers() * 2][];
        for (int layer = 0; layer < MODEL.layers(); layer++) {
            out[2 * layer] = cache.keys(layer).hostData().asSlice(block * span, span).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment values = cache.values(layer).hostData();
            if (cache.transposedValues()) {
                long elementSpan = 2L * cache.blockSize();
                out[2 * layer + 1] = new byte[(int) span];
                for (int d = 0; d < 32; d++) {
                    long at = ((long) d * cache.slots() + (long) block * cache.blockSize()) * 2;
                    MemorySegment.copy(values, ValueLayout.JAVA_BYTE, at, out[2 * layer + 1], (int) (d * elementSpan),
                            (int) elementSpan);
                }
            } else {
                out[2 * layer + 1] = values.asSlice(block * span, span).toArray(ValueLayout.JAVA_BYTE);
            }
        }
        return out;
    }

    private static float[] randomF16Representable(int n, Random random) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = Float.float16ToFloat(Float.floatToFloat16((float) random.nextGaussian()));
        }
        return v;
    }
}
