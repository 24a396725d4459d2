package dev.sluice.bench.load;

import java.util.List;

/** One level in a results file: its summary and every request it measured. */
record LevelResult(LevelSummary summary, List<RequestSample> samples) {
}
