package dev.sluice.engine.testmodel;

import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.bindings.gguf.GgufFile;
import dev.sluice.bindings.gguf.GgufValueType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The writer's files, read back by ggml's own {@code gguf.h} through {@link GgufFile}. */
class GgufWriterTest {

    @TempDir
    Path dir;

    @Test
    void everyValueTypeRoundTripsThroughGgml() throws IOException {
        Path file = dir.resolve("values.gguf");
        try (GgufWriter w = GgufWriter.create(file)) {
            w.put("u8", GgufValueType.UINT8, 255)
                    .put("i8", GgufValueType.INT8, (byte) -128)
                    .put("u16", GgufValueType.UINT16, 65535)
                    .put("i16", GgufValueType.INT16, (short) -32768)
                    .put("u32", GgufValueType.UINT32, 4_294_967_295L)
                    .put("i32", GgufValueType.INT32, Integer.MIN_VALUE)
                    .put("u64", GgufValueType.UINT64, -1L) // 2^64 - 1: Java sees its bit pattern
                    .put("i64", GgufValueType.INT64, Long.MIN_VALUE)
                    .put("f32", GgufValueType.FLOAT32, 1.5f)
                    .put("f64", GgufValueType.FLOAT64, Math.PI)
                    .putBool("yes", true)
                    .putBool("no", false)
                    .putString("text", "héllo, 世界 ✓")
                    .putString("empty", "")
                    .putArray("a.u8", GgufValueType.UINT8, List.of(0, 7, 255))
                    .putArray("a.i8", GgufValueType.INT8, List.of(-128, 127))
                    .putArray("a.u16", GgufValueType.UINT16, List.of(0, 65535))
                    .putArray("a.i16", GgufValueType.INT16, List.of(-32768, 32767))
                    .putArray("a.u32", GgufValueType.UINT32, List.of(0L, 4_294_967_295L))
                    .putArray("a.i32", GgufValueType.INT32, List.of(-1, 2, Integer.MAX_VALUE))
                    .putArray("a.u64", GgufValueType.UINT64, List.of(1L, Long.MAX_VALUE))
                    .putArray("a.i64", GgufValueType.INT64, List.of(Long.MIN_VALUE, 0L))
                    .putArray("a.f32", GgufValueType.FLOAT32, List.of(0.25f, -3.0))
                    .putArray("a.f64", GgufValueType.FLOAT64, List.of(Math.E, -0.5))
                    .putArray("a.bool", GgufValueType.BOOL, List.of(true, false, true))
                    .putArray("a.str", GgufValueType.STRING, List.of("a", "", "<|im_start|>", "ünï"))
                    .putArray("a.empty", GgufValueType.INT32, List.of());
            w.commit();
        }
        try (GgufFile gguf = GgufFile.open(file, false)) {
            assertEquals(3, gguf.version());
            assertEquals(List.of("u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "yes", "no", "text",
                    "empty", "a.u8", "a.i8", "a.u16", "a.i16", "a.u32", "a.i32", "a.u64", "a.i64", "a.f32", "a.f64",
                    "a.bool", "a.str", "a.empty"), gguf.keys());
            assertEquals(GgufValueType.UINT8, gguf.type("u8").orElseThrow());
            assertEquals(255L, gguf.value("u8"));
            assertEquals(GgufValueType.INT8, gguf.type("i8").orElseThrow());
            assertEquals(-128L, gguf.value("i8"));
            assertEquals(GgufValueType.UINT16, gguf.type("u16").orElseThrow());
            assertEquals(65535L, gguf.value("u16"));
            assertEquals(GgufValueType.INT16, gguf.type("i16").orElseThrow());
            assertEquals(-32768L, gguf.value("i16"));
            assertEquals(GgufValueType.UINT32, gguf.type("u32").orElseThrow());
            assertEquals(4_294_967_295L, gguf.value("u32"));
            assertEquals(GgufValueType.INT32, gguf.type("i32").orElseThrow());
            assertEquals((long) Integer.MIN_VALUE, gguf.value("i32"));
            assertEquals(GgufValueType.UINT64, gguf.type("u64").orElseThrow());
            assertEquals(-1L, gguf.value("u64"));
            assertEquals(GgufValueType.INT64, gguf.type("i64").orElseThrow());
            assertEquals(Long.MIN_VALUE, gguf.value("i64"));
            assertEquals(GgufValueType.FLOAT32, gguf.type("f32").orElseThrow());
            assertEquals(1.5, gguf.value("f32"));
            assertEquals(GgufValueType.FLOAT64, gguf.type("f64").orElseThrow());
            assertEquals(Math.PI, gguf.value("f64"));
            assertEquals(true, gguf.value("yes"));
            assertEquals(false, gguf.value("no"));
            assertEquals("héllo, 世界 ✓", gguf.value("text"));
            assertEquals("", gguf.value("empty"));

            assertArray(gguf, "a.u8", GgufValueType.UINT8, 0, 7, 255);
            assertArray(gguf, "a.i8", GgufValueType.INT8, -128, 127);
            assertArray(gguf, "a.u16", GgufValueType.UINT16, 0, 65535);
            assertArray(gguf, "a.i16", GgufValueType.INT16, -32768, 32767);
            assertArray(gguf, "a.u32", GgufValueType.UINT32, 0, 4_294_967_295L);
            assertArray(gguf, "a.i32", GgufValueType.INT32, -1, 2, Integer.MAX_VALUE);
            assertArray(gguf, "a.u64", GgufValueType.UINT64, 1, Long.MAX_VALUE);
            assertArray(gguf, "a.i64", GgufValueType.INT64, Long.MIN_VALUE, 0);
            assertArray(gguf, "a.f32", GgufValueType.FLOAT32, 0.25, -3.0);
            assertArray(gguf, "a.f64", GgufValueType.FLOAT64, Math.E, -0.5);
            assertArray(gguf, "a.bool", GgufValueType.BOOL, 1, 0, 1);
            assertEquals(GgufValueType.STRING, gguf.arrayType("a.str").orElseThrow());
            assertEquals(List.of("a", "", "<|im_start|>", "ünï"), gguf.value("a.str"));
            assertEquals(0, gguf.arrayLength("a.empty").orElseThrow());
            assertTrue(gguf.tensors().isEmpty());
        }
    }

    private static void assertArray(GgufFile gguf, String key, GgufValueType element, double... expected) {
        assertEquals(GgufValueType.ARRAY, gguf.type(key).orElseThrow(), key);
        assertEquals(element, gguf.arrayType(key).orElseThrow(), key);
        assertArrayEquals(expected, gguf.numberArray(key).orElseThrow(), key);
    }

    @Test
    void tensorDataLandsAlignedWhateverTheWritePieces() throws IOException {
        for (int alignment : new int[] {GgufWriter.DEFAULT_ALIGNMENT, 64}) {
            Path file = dir.resolve("tensors-" + alignment + ".gguf");
            byte[] a = bytes(12, 1);   // F32 {3}
            byte[] b = bytes(68, 2);   // Q8_0 {32, 2}: two 34-byte blocks
            byte[] c = bytes(30, 3);   // F16 {5, 3}
            try (GgufWriter w = GgufWriter.create(file)) {
                if (alignment != GgufWriter.DEFAULT_ALIGNMENT) {
                    w.putUInt32("general.alignment", alignment);
                }
                w.putString("general.architecture", "test");
                assertEquals(12, w.addTensor("a", GgmlType.F32, 3));
                assertEquals(68, w.addTensor("b", GgmlType.Q8_0, 32, 2));
                assertEquals(30, w.addTensor("c", GgmlType.F16, 5, 3));
                // One piece ending inside b, one spanning the rest of b and all of c.
                byte[] all = concat(a, b, c);
                w.writeTensorData(MemorySegment.ofArray(Arrays.copyOfRange(all, 0, 40)));
                w.writeTensorData(MemorySegment.ofArray(Arrays.copyOfRange(all, 40, all.length)));
                w.commit();
            }
            byte[] written = Files.readAllBytes(file);
            try (GgufFile gguf = GgufFile.open(file, true)) {
                assertEquals(alignment, gguf.alignment());
                assertEquals(0, gguf.dataOffset() % alignment);
                assertEquals(List.of("a", "b", "c"), List.copyOf(gguf.tensors().keySet()));
                GgufFile.TensorInfo ta = gguf.tensor("a").orElseThrow();
                GgufFile.TensorInfo tb = gguf.tensor("b").orElseThrow();
                GgufFile.TensorInfo tc = gguf.tensor("c").orElseThrow();
                assertEquals(GgmlType.Q8_0, tb.type());
                assertArrayEquals(new long[] {32, 2}, tb.shape());
                assertArrayEquals(new long[] {5, 3}, tc.shape());
                long cOffset = alignment + padded(68, alignment);
                assertEquals(List.of(0L, (long) alignment, cOffset), List.of(ta.offset(), tb.offset(), tc.offset()));
                assertArrayEquals(a, slice(written, gguf.dataOffset() + ta.offset(), 12));
                assertArrayEquals(b, slice(written, gguf.dataOffset() + tb.offset(), 68));
                assertArrayEquals(c, slice(written, gguf.dataOffset() + tc.offset(), 30));
                assertEquals(gguf.dataOffset() + cOffset + padded(30, alignment), written.length);
            }
        }
    }

    @Test
    void refusesWhatGgmlWouldRejectOrMisread() throws IOException {
        try (GgufWriter w = GgufWriter.create(dir.resolve("bad.gguf"))) {
            w.putUInt32("k", 1);
            assertThrows(IllegalArgumentException.class, () -> w.putUInt32("k", 2));
            assertThrows(IllegalArgumentException.class, () -> w.put("u8", GgufValueType.UINT8, 256));
            assertThrows(IllegalArgumentException.class, () -> w.put("u32", GgufValueType.UINT32, -1));
            assertThrows(IllegalArgumentException.class, () -> w.put("i32", GgufValueType.INT32, 1.0));
            assertThrows(IllegalArgumentException.class, () -> w.put("s", GgufValueType.STRING, 3));
            assertThrows(IllegalArgumentException.class, () -> w.putArray("nested", GgufValueType.ARRAY, List.of()));
            assertThrows(IllegalArgumentException.class, () -> w.putArray("mixed", GgufValueType.INT8, List.of(1, "x")));
            assertThrows(IllegalArgumentException.class, () -> w.putUInt32("general.alignment", 48));
            assertThrows(IllegalArgumentException.class, () -> w.addTensor("x".repeat(64), GgmlType.F32, 4));
            assertThrows(IllegalArgumentException.class, () -> w.addTensor("q", GgmlType.Q8_0, 16));
            assertThrows(IllegalArgumentException.class, () -> w.addTensor("five", GgmlType.F32, 1, 1, 1, 1, 1));
            w.addTensor("t", GgmlType.F32, 2);
            assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", GgmlType.F32, 2));
            w.writeTensorData(MemorySegment.ofArray(new byte[4]));
            assertThrows(IllegalStateException.class, () -> w.putUInt32("late", 1));
            assertThrows(IllegalStateException.class, w::commit);
            assertThrows(IllegalStateException.class, () -> w.writeTensorData(MemorySegment.ofArray(new byte[5])));
        }
        assertFalse(Files.exists(dir.resolve("bad.gguf")));
    }

    @Test
    void onlyACommittedFileAppearsAndItReplacesTheOldOne() throws IOException {
        Path file = dir.resolve("model.gguf");
        try (GgufWriter w = GgufWriter.create(file)) {
            w.putString("general.name", "first");
            w.commit();
        }
        try (GgufWriter w = GgufWriter.create(file)) {
            w.putString("general.name", "abandoned");
        }
        try (GgufFile gguf = GgufFile.open(file, false)) {
            assertEquals("first", gguf.string("general.name").orElseThrow());
        }
        try (GgufWriter w = GgufWriter.create(file)) {
            w.putString("general.name", "second");
            w.commit();
        }
        try (GgufFile gguf = GgufFile.open(file, false)) {
            assertEquals("second", gguf.string("general.name").orElseThrow());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary files left behind");
        }
    }

    private static long padded(long bytes, int alignment) {
        return (bytes + alignment - 1) / alignment * alignment;
    }

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed * 31 + i * 7);
        }
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        byte[] all = new byte[Arrays.stream(parts).mapToInt(p -> p.length).sum()];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    private static byte[] slice(byte[] bytes, long from, int n) {
        return Arrays.copyOfRange(bytes, (int) from, (int) from + n);
    }
}
