package dev.sluice.bench.load;

import java.util.Arrays;

/** Mean and percentiles of a set of measurements; all zero, with count 0, when there were none. */
record Distribution(int count, double mean, double p50, double p90, double p99) {

    static final Distribution EMPTY = new Distribution(0, 0, 0, 0, 0);

    static Distribution of(double[] values) {
        if (values.length == 0) {
            return EMPTY;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return new Distribution(sorted.length, Arrays.stream(sorted).average().orElseThrow(),
                percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99));
    }

    /**
     * The p-th percentile of sorted values, interpolating linearly between the two nearest ranks
     * (numpy's default, which {@code vllm bench serve} reports), so results compare with it.
     */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0 || p < 0 || p > 100) {
            throw new IllegalArgumentException("percentile " + p + " of " + sorted.length + " values");
        }
        double rank = p / 100 * (sorted.length - 1);
        int below = (int) Math.floor(rank);
        int above = (int) Math.ceil(rank);
        return sorted[below] + (sorted[above] - sorted[below]) * (rank - below);
    }
}
