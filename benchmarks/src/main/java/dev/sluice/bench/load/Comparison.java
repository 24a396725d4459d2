package dev.sluice.bench.load;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Two runs side by side: for every level both ran (matched by label) and every {@link Figure},
 * the two values and their ratio a/b. Levels only one run has are listed, not compared.
 */
record Comparison(String labelA, String labelB, List<Level> levels, List<String> unmatched) {

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
        return new Comparison(labelA, labelB, List.copyOf(levels), List.copyOf(unmatched));
    }

    String markdown() {
        StringBuilder out = new StringBuilder();
        out.append("# ").append(labelA).append(" vs ").append(labelB).append("\n\n");
        out.append("Ratios are ").append(labelA).append(" / ").append(labelB)
                .append(": above 1 is better for counts of successes and throughputs, below 1 is better for latencies.\n");
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
