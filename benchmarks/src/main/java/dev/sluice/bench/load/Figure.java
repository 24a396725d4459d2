package dev.sluice.bench.load;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/** One number a level reports, with its name and how many decimals it is shown with. */
record Figure(String name, int decimals, ToDoubleFunction<LevelSummary> value) {

    /** Every figure of a level, in report order: counts, throughputs, then latencies. */
    static final List<Figure> ALL = all();

    private static List<Figure> all() {
        List<Figure> figures = new ArrayList<>(List.of(
                new Figure("successful requests", 0, LevelSummary::succeeded),
                new Figure("failed requests", 0, LevelSummary::failed),
                new Figure("duration (s)", 2, LevelSummary::durationS),
                new Figure("request throughput (req/s)", 2, LevelSummary::requestThroughput),
                new Figure("output tokens/s", 1, LevelSummary::outputTokensPerS),
                new Figure("total tokens/s", 1, LevelSummary::totalTokensPerS),
                new Figure("goodput (req/s)", 2, LevelSummary::goodput),
                new Figure("peak concurrency", 0, LevelSummary::peakConcurrency)));
        latencies(figures, "TTFT", LevelSummary::ttftMs);
        latencies(figures, "TPOT", LevelSummary::tpotMs);
        latencies(figures, "ITL", LevelSummary::itlMs);
        latencies(figures, "E2E", LevelSummary::e2eMs);
        return List.copyOf(figures);
    }

    private static void latencies(List<Figure> figures, String metric, Function<LevelSummary, Distribution> of) {
        figures.add(new Figure(metric + " mean (ms)", 1, s -> of.apply(s).mean()));
        figures.add(new Figure(metric + " p50 (ms)", 1, s -> of.apply(s).p50()));
        figures.add(new Figure(metric + " p90 (ms)", 1, s -> of.apply(s).p90()));
        figures.add(new Figure(metric + " p99 (ms)", 1, s -> of.apply(s).p99()));
    }

    String format(LevelSummary summary) {
        return Markdown.number(value.applyAsDouble(summary), decimals);
    }
}
