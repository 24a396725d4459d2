package dev.sluice.bench.load;

/** The service-level objective goodput counts requests against: both bounds must hold. */
record Slo(double ttftMs, double tpotMs) {

    boolean metBy(RequestSample sample) {
        return sample.success() && sample.ttftMs() <= ttftMs && sample.tpotMs() <= tpotMs;
    }
}
