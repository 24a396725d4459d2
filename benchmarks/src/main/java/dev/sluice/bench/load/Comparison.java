package dev.sluice.bench.load;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Two runs side by side: for every level both ran (matched by label) and every {@link Figure},
 * the two values and their ratio a/b. Levels only one run has are listed, not compared, and so
 * are differences in how the runs were made: a ratio means little across workloads or seeds.
 */
record Comparison(String labelA, String labelB, List<Level> levels, List<String> unmatched, List<String> differences) {

    /** One level's rows. */
    record Level(String load, List<Row> rows) {
    }

    /** One figure: both values and a/b, NaN when b is 0 and a/b means nothing. */
    record Row(Figure figure, double a, double b, double ratio) {
    }

    static Comparison of(String labelA, RunResult a, String labelB, RunResult b) {
        Map<String, LevelSummary> byLoad = b.summaries().stream()
                .collect(Collectors.toMap(s -> s.load().label(), Function.identity(), (x, y) -> x, LinkedHashMap::new));
        List<Level> levels = new ArrayList<>();
        List<String> unmatched = new ArrayList<>();
        for (LevelSummary left : a.summaries()) {
            LevelSummary right = byLoad.remove(left.load().label());
            if (right == null) {
                unmatched.add(left.load().label() + " (only in " + labelA + ")");
                continue;
            }
            List<Row> rows = new ArrayList<>();
            for (Figure figure : Figure.ALL) {
                double x = figure.value().applyAsDouble(left);
                double y = figure.value().applyAsDouble(right);
                rows.add(new Row(figure, x, y, y != 0 ? x / y : Double.NaN));
            }
            levels.add(new Level(left.load().label(), List.copyOf(rows)));
        }
        byLoad.keySet().forEach(load -> unmatched.add(load + " (only in " + labelB + ")"));
        return new Comparison(labelA, labelB, List.copyOf(levels), List.copyOf(unmatched),
                differences(a.config(), b.config()));
    }

    /** The settings that shape a run's load, in report order; server, model and label are not among them. */
    static final Map<String, Function<RunConfig, Object>> LOAD_SETTINGS = loadSettings();

    private static Map<String, Function<RunConfig, Object>> loadSettings() {
        Map<String, Function<RunConfig, Object>> settings = new LinkedHashMap<>();
        settings.put("endpoint", RunConfig::endpoint);
        settings.put("workload", RunConfig::workload);
        settings.put("prompt format", RunConfig::promptFormat);
        settings.put("vocabulary range", c -> c.vocabMin() + "-" + c.vocabMax());
        settings.put("seed", RunConfig::seed);
        settings.put("requests per level", RunConfig::numRequests);
        settings.put("duration (s)", RunConfig::durationS);
        settings.put("warmup requests", RunConfig::warmupRequests);
        settings.put("temperature", RunConfig::temperature);
        settings.put("TTFT SLO (ms)", RunConfig::sloTtftMs);
        settings.put("TPOT SLO (ms)", RunConfig::sloTpotMs);
        return java.util.Collections.unmodifiableMap(settings);
    }

    /** The load settings on which the runs differ. */
    private static List<String> differences(RunConfig a, RunConfig b) {
        return differing(a, b, LOAD_SETTINGS);
    }

    /** "name a vs b" for each of {@code settings} on which the two runs differ, in order. */
    static List<String> differing(RunConfig a, RunConfig b, Map<String, Function<RunConfig, Object>> settings) {
        List<String> differences = new ArrayList<>();
        settings.forEach((name, value) -> {
            if (!java.util.Objects.equals(value.apply(a), value.apply(b))) {
                differences.add(name + " " + value.apply(a) + " vs " + value.apply(b));
            }
        });
        return List.copyOf(differences);
    }

    String markdown() {
        StringBuilder out = new StringBuilder();
        out.append("# ").append(labelA).append(" vs ").append(labelB).append("\n\n");
        out.append("Ratios are ").append(labelA).append(" / ").append(labelB)
                .append(": above 1 is better for counts of successes and throughputs, below 1 is better for latencies.\n");
        if (!differences.isEmpty()) {
            out.append("\n**The runs were not made alike:** ").append(String.join("; ", differences)).append(".\n");
        }
        for (Level level : levels) {
            List<List<String>> rows = new ArrayList<>();
            for (Row row : level.rows()) {
                rows.add(List.of(row.figure().name(), Markdown.number(row.a(), row.figure().decimals()),
                        Markdown.number(row.b(), row.figure().decimals()),
                        Double.isNaN(row.ratio()) ? "–" : Markdown.number(row.ratio(), 2)));
            }
            out.append("\n## ").append(level.load()).append("\n\n").append(Markdown.table(
                    List.of("figure", labelA, labelB, labelA + " / " + labelB), 1, rows));
        }
        if (!unmatched.isEmpty()) {
            out.append("\nNot compared: ").append(String.join(", ", unmatched)).append(".\n");
        }
        return out.toString();
    }
}
