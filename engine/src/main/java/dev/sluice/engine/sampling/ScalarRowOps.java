package dev.sluice.engine.sampling;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** {@link RowOps} as plain loops: where the Vector API is not available. */
final class ScalarRowOps extends RowOps {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;

    @Override
    int argmax(MemorySegment row, int n) {
        int best = 0;
        float bestValue = row.getAtIndex(F32, 0);
        for (int i = 1; i < n; i++) {
            float v = row.getAtIndex(F32, i);
            if (v > bestValue) {
                best = i;
                bestValue = v;
            }
        }
        return best;
    }

    @Override
    float max(MemorySegment row, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, row.getAtIndex(F32, i));
        }
        return max;
    }

    @Override
    double softmaxNumerators(MemorySegment row, MemorySegment out, int n, float max, float scale, float floor) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float x = (row.getAtIndex(F32, i) - max) * scale;
            float e = x < floor ? 0f : (float) Math.exp(x);
            out.setAtIndex(F32, i, e);
            sum += e;
        }
        return sum;
    }

    @Override
    double massAbove(MemorySegment values, int n, float threshold, int[] count) {
        double sum = 0;
        int above = 0;
        for (int i = 0; i < n; i++) {
            float v = values.getAtIndex(F32, i);
            if (v > threshold) {
                sum += v;
                above++;
            }
        }
        count[0] = above;
        return sum;
    }

    @Override
    int firstReaching(MemorySegment values, int n, double target) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += values.getAtIndex(F32, i);
            if (sum >= target) {
                return i;
            }
        }
        return n - 1;
    }
}
