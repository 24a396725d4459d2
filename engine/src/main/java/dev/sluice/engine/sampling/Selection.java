package dev.sluice.engine.sampling;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The k-th largest value of a row without sorting it: top-k needs only its threshold, and
 * Hoare's selection finds it in a few linear passes where a sort of a 152k-entry vocabulary takes
 * milliseconds.
 */
final class Selection {

    private Selection() {
    }

    /**
     * The {@code k}-th largest of {@code row[0, n)} (1 ≤ k ≤ n), using {@code scratch} (at least
     * {@code n} long) as working space.
     */
    static float kthLargest(MemorySegment row, int n, int k, float[] scratch) {
        if (k < 1 || k > n) {
            throw new IllegalArgumentException("k " + k + " outside [1, " + n + "]");
        }
        MemorySegment.copy(row, ValueLayout.JAVA_FLOAT, 0, scratch, 0, n);
        // The k-th largest is the element that belongs at index k - 1 of a descending order.
        int target = k - 1;
        int lo = 0;
        int hi = n - 1;
        long seed = 0x9E3779B97F4A7C15L;
        while (lo < hi) {
            seed = seed * 6364136223846793005L + 1442695040888963407L; // a pivot no input can aim at
            float pivot = scratch[lo + (int) Long.remainderUnsigned(seed >>> 16, hi - lo + 1)];
            // Three-way partition, descending: [lo, lt) > pivot, [lt, gt] == pivot, (gt, hi] < pivot.
            int lt = lo;
            int gt = hi;
            int i = lo;
            while (i <= gt) {
                float v = scratch[i];
                if (v > pivot) {
                    swap(scratch, lt++, i++);
                } else if (v < pivot) {
                    swap(scratch, i, gt--);
                } else {
                    i++;
                }
            }
            if (target < lt) {
                hi = lt - 1;
            } else if (target > gt) {
                lo = gt + 1;
            } else {
                return pivot;
            }
        }
        return scratch[target];
    }

    private static void swap(float[] a, int i, int j) {
        float t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
