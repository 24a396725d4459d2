package dev.sluice.engine.sampling;

import java.lang.foreign.MemorySegment;

/**
 * Whole-row arithmetic on a logits row, the part of sampling that touches every vocabulary entry:
 * the largest logit and its index, the softmax numerators with their sum, and the index where a
 * running sum reaches a target. With the Vector API present ({@code --add-modules
 * jdk.incubator.vector}, as bin/server runs) these use the CPU's widest vectors; without it, plain
 * loops give the same results more slowly.
 *
 * <p>Rows are F32 values in any memory segment (a native logits buffer or a heap array).
 */
abstract class RowOps {

    private static final RowOps INSTANCE = create();

    /** The fastest implementation this JVM can run. */
    static RowOps get() {
        return INSTANCE;
    }

    /** Whether the vectorized implementation is in use. */
    static boolean vectorized() {
        return !(INSTANCE instanceof ScalarRowOps);
    }

    private static RowOps create() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                return new VectorRowOps();
            } catch (LinkageError | RuntimeException e) {
                // fall through to the scalar loops
            }
        }
        return new ScalarRowOps();
    }

    /** The index of the largest of {@code row[0, n)}, the lowest index on ties. */
    abstract int argmax(MemorySegment row, int n);

    /** The largest of {@code row[0, n)}. */
    abstract float max(MemorySegment row, int n);

    /**
     * Writes {@code out[i] = exp((row[i] - max) * scale)} for {@code i < n}, or 0 where
     * {@code (row[i] - max) * scale} is below {@code floor}, and returns the sum of what it wrote.
     * Sums are taken in float over short runs and added in double, so the total's rounding error
     * stays far below what a draw can notice.
     */
    abstract double softmaxNumerators(MemorySegment row, MemorySegment out, int n, float max, float scale, float floor);

    /**
     * The first index at which the running sum of {@code values[0, n)}, taken in double, reaches
     * {@code target}; {@code n - 1} if it never does (rounding at the very end).
     */
    abstract int firstReaching(MemorySegment values, int n, double target);

    /**
     * The sum, taken in double, of the values of {@code values[0, n)} greater than {@code threshold};
     * their count goes to {@code count[0]}.
     */
    abstract double massAbove(MemorySegment values, int n, float threshold, int[] count);
}
