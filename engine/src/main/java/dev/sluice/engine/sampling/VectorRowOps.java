package dev.sluice.engine.sampling;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * {@link RowOps} with the Vector API, at the CPU's preferred width (16 floats with AVX-512). About
 * 15 times faster than the scalar loops on a 152k-entry row: a softmax draw takes ~0.1 ms instead
 * of ~1.5 ms, which is what keeps sampling a few percent of a decode step at 64 sequences.
 */
final class VectorRowOps extends RowOps {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    /** Vectors summed in float before their total is added in double. */
    private static final int BLOCK_VECTORS = 16;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;

    private static FloatVector load(MemorySegment segment, int i) {
        return FloatVector.fromMemorySegment(SPECIES, segment, (long) i * Float.BYTES, ORDER);
    }

    @Override
    int argmax(MemorySegment row, int n) {
        float max = max(row, n);
        int bound = SPECIES.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            VectorMask<Float> hit = load(row, i).compare(VectorOperators.EQ, max);
            if (hit.anyTrue()) {
                return i + hit.firstTrue();
            }
        }
        for (; i < n; i++) {
            if (row.getAtIndex(F32, i) == max) {
                return i;
            }
        }
        return 0; // a row of NaNs
    }

    @Override
    float max(MemorySegment row, int n) {
        FloatVector acc = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        int bound = SPECIES.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            acc = acc.max(load(row, i));
        }
        float max = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, row.getAtIndex(F32, i));
        }
        return max;
    }

    @Override
    double softmaxNumerators(MemorySegment row, MemorySegment out, int n, float max, float scale, float floor) {
        int bound = SPECIES.loopBound(n);
        double sum = 0;
        int i = 0;
        while (i < bound) {
            FloatVector block = FloatVector.zero(SPECIES);
            for (int v = 0; v < BLOCK_VECTORS && i < bound; v++, i += LANES) {
                FloatVector x = load(row, i).sub(max).mul(scale);
                FloatVector e = x.lanewise(VectorOperators.EXP).blend(0f, x.compare(VectorOperators.LT, floor));
                e.intoMemorySegment(out, (long) i * Float.BYTES, ORDER);
                block = block.add(e);
            }
            sum += block.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            float x = (row.getAtIndex(F32, i) - max) * scale;
            float e = x < floor ? 0f : (float) Math.exp(x);
            out.setAtIndex(F32, i, e);
            sum += e;
        }
        return sum;
    }

    @Override
    double massAbove(MemorySegment values, int n, float threshold, int[] count) {
        int bound = SPECIES.loopBound(n);
        double sum = 0;
        int above = 0;
        int i = 0;
        while (i < bound) {
            FloatVector block = FloatVector.zero(SPECIES);
            for (int v = 0; v < BLOCK_VECTORS && i < bound; v++, i += LANES) {
                FloatVector x = load(values, i);
                VectorMask<Float> keep = x.compare(VectorOperators.GT, threshold);
                block = block.add(x, keep);
                above += keep.trueCount();
            }
            sum += block.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
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
        // Skip whole blocks while their sum keeps the running total below the target, then walk
        // the block that crosses it one value at a time.
        int blockLength = BLOCK_VECTORS * LANES;
        int bound = SPECIES.loopBound(n);
        double sum = 0;
        int i = 0;
        while (i + blockLength <= bound) {
            FloatVector block = FloatVector.zero(SPECIES);
            for (int v = 0; v < BLOCK_VECTORS; v++) {
                block = block.add(load(values, i + v * LANES));
            }
            double blockSum = block.reduceLanes(VectorOperators.ADD);
            if (sum + blockSum >= target) {
                break;
            }
            sum += blockSum;
            i += blockLength;
        }
        for (; i < n; i++) {
            sum += values.getAtIndex(F32, i);
            if (sum >= target) {
                return i;
            }
        }
        return n - 1;
    }
}
