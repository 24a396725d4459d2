package dev.sluice.bench.load;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Several runs of one server pooled into one result, as if their rounds had run back to back: per
 * level the requests of every run together, over the sum of the runs' wall times. A comparison of
 * two servers on a shared, drifting host is fairest when their runs alternate (A B B A): pooling
 * each server's rounds then cancels a steady drift, and each round's own ratio shows the spread.
 *
 * <p>The runs must have measured the same load: the same workload, endpoint, prompts' format and
 * vocabulary, temperature and SLOs, and the same levels. Seeds may differ (rounds should use
 * different ones, so a server's prefix cache cannot hit an earlier round's prompts); the pooled
 * result carries the first run's configuration with the request counts added up.
 */
final class RunMerge {

    private RunMerge() {
    }

    static RunResult of(List<RunResult> runs) {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("nothing to merge");
        }
        RunResult first = runs.getFirst();
        for (RunResult run : runs.subList(1, runs.size())) {
            List<String> differences = differences(first.config(), run.config());
            if (!differences.isEmpty()) {
                throw new IllegalArgumentException("runs of different loads cannot be pooled: " + String.join("; ", differences));
            }
        }
        Slo slo = new Slo(first.config().sloTtftMs(), first.config().sloTpotMs());
        List<LevelResult> levels = new ArrayList<>();
        for (LevelResult level : first.levels()) {
            String load = level.summary().load().label();
            List<RequestSample> samples = new ArrayList<>();
            double seconds = 0;
            int peak = 0;
            for (RunResult run : runs) {
                LevelResult same = run.levels().stream().filter(l -> l.summary().load().label().equals(load)).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException(
                                "run " + run.config().label() + " of " + run.config().startedAt() + " has no level " + load));
                samples.addAll(same.samples());
                seconds += same.summary().durationS();
                peak = Math.max(peak, same.summary().peakConcurrency());
            }
            LevelSummary summary = LevelSummary.of(level.summary().load(), new LevelRun(samples, seconds, peak), slo);
            levels.add(new LevelResult(summary, List.copyOf(samples)));
        }
        int requests = runs.stream().mapToInt(r -> r.config().numRequests()).sum();
        RunConfig c = first.config();
        RunConfig pooled = new RunConfig(c.label(), c.baseUrl(), c.endpoint(), c.model(), c.workload(), c.promptFormat(),
                c.vocabMin(), c.vocabMax(), c.seed(), requests, c.durationS() * runs.size(), c.warmupRequests(),
                c.temperature(), c.sloTtftMs(), c.sloTpotMs(), c.startedAt());
        return new RunResult(pooled, List.copyOf(levels));
    }

    /** Load settings that may differ from round to round: what a round runs, not the load it measures. */
    private static final Set<String> PER_ROUND = Set.of("seed", "requests per level", "duration (s)", "warmup requests");

    /** The settings two runs must share to be pooled: the server's label and the load's shape. */
    private static List<String> differences(RunConfig a, RunConfig b) {
        Map<String, Function<RunConfig, Object>> settings = new LinkedHashMap<>();
        settings.put("label", RunConfig::label);
        Comparison.LOAD_SETTINGS.forEach((name, value) -> {
            if (!PER_ROUND.contains(name)) {
                settings.put(name, value);
            }
        });
        return Comparison.differing(a, b, settings);
    }
}
