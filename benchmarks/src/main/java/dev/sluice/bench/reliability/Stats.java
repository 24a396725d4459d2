package dev.sluice.bench.reliability;

import java.util.Arrays;
import java.util.List;

/** Means and percentiles of measured values. */
final class Stats {

    private Stats() {
    }

    static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** Nearest-rank percentile, p in [0, 100]. */
    static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    static String mib(double bytes) {
        return String.format("%.1f MiB", bytes / (1024 * 1024));
    }

    static String ms(double millis) {
        return Double.isNaN(millis) ? "n/a" : String.format("%.0f ms", millis);
    }
}
