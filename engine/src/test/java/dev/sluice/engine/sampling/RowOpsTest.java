package dev.sluice.engine.sampling;

import dev.sluice.bindings.llama.LlamaSampler;
import dev.sluice.bindings.llama.LlamaTokenDataArray;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sampling kernels: vectorized and scalar agree, and the Mersenne Twister is llama.cpp's. */
class RowOpsTest {

    private static MemorySegment row(float[] values) {
        return MemorySegment.ofArray(values.clone());
    }

    @Test
    void theVectorApiIsInUse() {
        assertTrue(RowOps.vectorized(), "tests run with --add-modules jdk.incubator.vector");
    }

    @Test
    void vectorAndScalarAgreeOnRowsOfEveryLength() {
        Random random = new Random(7);
        RowOps vector = RowOps.get();
        RowOps scalar = new ScalarRowOps();
        for (int n : new int[] {1, 3, 15, 16, 17, 255, 256, 257, 4099, 151_936}) {
            float[] logits = new float[n];
            for (int i = 0; i < n; i++) {
                logits[i] = (float) (random.nextGaussian() * 4);
            }
            MemorySegment row = row(logits);
            assertEquals(scalar.max(row, n), vector.max(row, n));
            assertEquals(scalar.argmax(row, n), vector.argmax(row, n));
            float max = scalar.max(row, n);
            MemorySegment a = MemorySegment.ofArray(new float[n]);
            MemorySegment b = MemorySegment.ofArray(new float[n]);
            double sa = scalar.softmaxNumerators(row, a, n, max, 1 / 0.7f, -5f);
            double sb = vector.softmaxNumerators(row, b, n, max, 1 / 0.7f, -5f);
            assertEquals(sa, sb, sa * 1e-5, "n=" + n);
            for (int i = 0; i < n; i++) {
                float x = a.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                float y = b.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                assertEquals(x, y, Math.max(1e-6f, x * 1e-5f), "n=" + n + " i=" + i);
                assertEquals(x == 0, y == 0, "the floor cuts the same entries");
            }
            for (double fraction : new double[] {0, 0.1, 0.5, 0.9, 0.999999}) {
                int expected = scalar.firstReaching(a, n, sa * fraction);
                int actual = vector.firstReaching(a, n, sa * fraction);
                assertTrue(Math.abs(expected - actual) <= 1, "n=" + n + " fraction " + fraction + ": " + expected + " vs " + actual);
            }
            for (float threshold : new float[] {0f, 0.01f, 0.5f, 1f}) {
                int[] cs = new int[1];
                int[] cv = new int[1];
                double ms = scalar.massAbove(a, n, threshold, cs);
                double mv = vector.massAbove(a, n, threshold, cv);
                assertEquals(cs[0], cv[0], "n=" + n + " above " + threshold);
                assertEquals(ms, mv, Math.max(1e-9, ms * 1e-5), "n=" + n + " above " + threshold);
                double direct = 0;
                int count = 0;
                for (int i = 0; i < n; i++) {
                    float v = a.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    if (v > threshold) {
                        direct += v;
                        count++;
                    }
                }
                assertEquals(count, cs[0]);
                assertEquals(direct, ms, Math.max(1e-9, direct * 1e-9));
            }
        }
    }

    @Test
    void argmaxTakesTheLowestIndexOnTies() {
        float[] logits = new float[100];
        logits[40] = 3;
        logits[70] = 3;
        assertEquals(40, RowOps.get().argmax(row(logits), 100));
        assertEquals(40, new ScalarRowOps().argmax(row(logits), 100));
    }

    @Test
    void theMersenneTwisterIsTheStandardOne() {
        Mt19937 mt = new Mt19937(5489); // std::mt19937's default seed
        long value = 0;
        for (int i = 0; i < 10_000; i++) {
            value = mt.nextUnsigned();
        }
        assertEquals(4123659995L, value, "the C++ standard's check value");
    }

    @Test
    void uniformDrawsFollowLlamaCppsDistSampler() {
        // Two equally likely candidates: llama.cpp picks the first when its uniform draw is at most
        // 1/2, so its choices reveal its draws' sequence, which Mt19937.nextDouble must reproduce.
        int seed = 12345;
        Mt19937 mine = new Mt19937(seed);
        try (LlamaSampler dist = LlamaSampler.distribution(seed);
             LlamaTokenDataArray candidates = new LlamaTokenDataArray(2);
             Arena arena = Arena.ofConfined()) {
            MemorySegment logits = arena.allocate(ValueLayout.JAVA_FLOAT, 2);
            for (int i = 0; i < 500; i++) {
                candidates.fill(logits);
                dist.apply(candidates);
                int expected = mine.nextDouble() * 2.0 <= 1.0 ? 0 : 1;
                assertEquals(expected, candidates.selectedIndex(), "draw " + i);
            }
        }
    }
}
