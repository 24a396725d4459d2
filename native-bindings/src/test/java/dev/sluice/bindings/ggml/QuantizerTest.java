package dev.sluice.bindings.ggml;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizerTest {

    private static float[] randomRows(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextDouble() * 4 - 2);
        }
        return values;
    }

    @Test
    void f16MatchesJavaRoundingAndRoundTrips() {
        float[] values = randomRows(64, 1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
            MemorySegment half = arena.allocate(2 * 64);
            assertEquals(128, Quantizer.quantize(GgmlType.F16, src, half, 2, 32));
            MemorySegment back = arena.allocate(4 * 64);
            Quantizer.dequantize(GgmlType.F16, half, back, 2, 32);
            for (int i = 0; i < values.length; i++) {
                short expected = Float.floatToFloat16(values[i]);
                assertEquals(expected, half.getAtIndex(ValueLayout.JAVA_SHORT, i), "element " + i);
                assertEquals(Float.float16ToFloat(expected), back.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        }
    }

    @Test
    void q8_0BlocksHoldAScaleAndRoundedInt8s() {
        float[] values = randomRows(32, 2);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
            MemorySegment block = arena.allocate(GgmlType.Q8_0.rowBytes(32));
            assertEquals(34, Quantizer.quantize(GgmlType.Q8_0, src, block, 1, 32));
            float amax = 0;
            for (float v : values) {
                amax = Math.max(amax, Math.abs(v));
            }
            float scale = amax / 127;
            assertEquals(Float.floatToFloat16(scale), block.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0));
            for (int i = 0; i < 32; i++) {
                assertEquals(Math.round(values[i] / scale), block.get(ValueLayout.JAVA_BYTE, 2 + i), 1, "element " + i);
            }
            MemorySegment back = arena.allocate(4 * 32);
            Quantizer.dequantize(GgmlType.Q8_0, block, back, 1, 32);
            assertArrayEquals(values, back.toArray(ValueLayout.JAVA_FLOAT), scale);
        }
    }

    @Test
    void kQuantsRoundTripWithinTheirPrecision() {
        int rowLength = 256;
        float[] values = randomRows(2 * rowLength, 3);
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q6_K}) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
                MemorySegment packed = arena.allocate(2 * type.rowBytes(rowLength));
                assertEquals(packed.byteSize(), Quantizer.quantize(type, src, packed, 2, rowLength));
                MemorySegment back = arena.allocate(4L * values.length);
                Quantizer.dequantize(type, packed, back, 2, rowLength);
                double error = 0;
                double energy = 0;
                for (int i = 0; i < values.length; i++) {
                    double d = back.getAtIndex(ValueLayout.JAVA_FLOAT, i) - values[i];
                    error += d * d;
                    energy += values[i] * values[i];
                }
                double relative = Math.sqrt(error / energy);
                assertTrue(relative > 0 && relative < (type == GgmlType.Q4_K ? 0.12 : 0.03), type + ": " + relative);
            }
        }
    }

    @Test
    void refusesWhatGgmlWouldAbortOn() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(4 * 512);
            MemorySegment dst = arena.allocate(4 * 512);
            assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize(GgmlType.Q4_K, src, dst, 1, 128));
            assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize(GgmlType.Q8_0, src, dst, 1, 48));
            assertThrows(IllegalArgumentException.class,
                    () -> Quantizer.quantize(GgmlType.Q8_0, src, dst.asSlice(0, 33), 1, 32));
            assertThrows(IllegalArgumentException.class,
                    () -> Quantizer.quantize(GgmlType.F16, MemorySegment.ofArray(new float[32]), dst, 1, 32));
            assertFalse(Quantizer.canQuantize(GgmlType.IQ2_XXS));
            assertFalse(Quantizer.canQuantize(GgmlType.Q8_1));
            assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize(GgmlType.IQ2_XXS, src, dst, 1, 256));
            assertTrue(Quantizer.canQuantize(GgmlType.BF16));
        }
    }
}
