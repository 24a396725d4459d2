package dev.sluice.bench.load;

import java.util.List;

/** A whole results file: the run's configuration and one result per level, in the order run. */
record RunResult(RunConfig config, List<LevelResult> levels) {

    List<LevelSummary> summaries() {
        return levels.stream().map(LevelResult::summary).toList();
    }
}
