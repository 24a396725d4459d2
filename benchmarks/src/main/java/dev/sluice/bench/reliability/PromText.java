package dev.sluice.bench.reliability;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Prometheus text exposition, read just enough for the suite: each sample's value by metric name,
 * summed over its label sets ({@code sluice:request_success_total} over its finish reasons, say).
 */
public final class PromText {

    private final Map<String, Double> sums;

    private PromText(Map<String, Double> sums) {
        this.sums = sums;
    }

    public static PromText parse(String text) {
        Map<String, Double> sums = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space;
            String name;
            if (brace >= 0 && brace < line.indexOf(' ')) {
                name = line.substring(0, brace);
                int close = line.lastIndexOf('}');
                if (close < 0) {
                    continue;
                }
                space = close + 1;
            } else {
                space = line.indexOf(' ');
                if (space < 0) {
                    continue;
                }
                name = line.substring(0, space);
            }
            String[] rest = line.substring(space).strip().split("\\s+");
            if (rest.length == 0 || rest[0].isEmpty()) {
                continue;
            }
            double value;
            try {
                value = switch (rest[0]) {
                    case "+Inf" -> Double.POSITIVE_INFINITY;
                    case "-Inf" -> Double.NEGATIVE_INFINITY;
                    case "NaN" -> Double.NaN;
                    default -> Double.parseDouble(rest[0]);
                };
            } catch (NumberFormatException e) {
                continue;
            }
            sums.merge(name, value, Double::sum);
        }
        return new PromText(sums);
    }

    /** The metric's value (summed over label sets), if it is there. */
    public OptionalDouble value(String name) {
        Double v = sums.get(name);
        return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
    }

    public boolean has(String name) {
        return sums.containsKey(name);
    }
}
