package dev.sluice.bench.load;

import java.util.List;

/** The raw outcome of one level: its samples in request order, how long it took, and its peak concurrency. */
record LevelRun(List<RequestSample> samples, double durationS, int peakConcurrency) {
}
