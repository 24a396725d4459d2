package dev.sluice.scheduler.metrics;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * A Prometheus-style histogram with fixed upper bounds: cheap to record from the engine thread,
 * safe to read from any thread (the snapshot may be a few events behind).
 */
public final class Histogram {

    private final double[] bounds;
    private final AtomicLongArray counts;
    private final LongAdder count = new LongAdder();
    private final DoubleAdder sum = new DoubleAdder();

    /** Upper bounds in increasing order; a final +Inf bucket is implied. */
    public Histogram(double... bounds) {
        for (int i = 1; i < bounds.length; i++) {
            if (bounds[i] <= bounds[i - 1]) {
                throw new IllegalArgumentException("bucket bounds must increase");
            }
        }
        this.bounds = bounds.clone();
        this.counts = new AtomicLongArray(bounds.length + 1);
    }

    public void record(double value) {
        int i = 0;
        while (i < bounds.length && value > bounds[i]) {
            i++;
        }
        counts.incrementAndGet(i);
        count.increment();
        sum.add(value);
    }

    public double[] bounds() {
        return bounds.clone();
    }

    /** Cumulative counts per bound, the last one for +Inf (Prometheus {@code _bucket}). */
    public long[] cumulativeCounts() {
        long[] out = new long[bounds.length + 1];
        long running = 0;
        for (int i = 0; i < out.length; i++) {
            running += counts.get(i);
            out[i] = running;
        }
        return out;
    }

    public long count() {
        return count.sum();
    }

    public double sum() {
        return sum.sum();
    }
}
