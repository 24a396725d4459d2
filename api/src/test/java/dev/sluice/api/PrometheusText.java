package dev.sluice.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A strict parser of Prometheus' text exposition format (0.0.4): every line must be a
 * {@code # HELP}, a {@code # TYPE} or a sample of a family declared before it; histograms must
 * have cumulative buckets ending in {@code le="+Inf"} equal to their {@code _count}.
 */
public final class PrometheusText {

    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(?:\\{(.*)})? (\\S+)(?: (-?\\d+))?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"(,|$)");

    public record Sample(String name, Map<String, String> labels, double value) {
    }

    private final Map<String, String> types = new LinkedHashMap<>();
    private final Map<String, String> help = new LinkedHashMap<>();
    private final List<Sample> samples = new ArrayList<>();

    private PrometheusText() {
    }

    public static PrometheusText parse(String text) {
        PrometheusText p = new PrometheusText();
        assertTrue(text.endsWith("\n"), "the exposition ends with a newline");
        assertFalse(text.contains("\r"), "no carriage returns");
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length - 1; i++) {
            p.line(lines[i], i + 1);
        }
        p.checkHistograms();
        return p;
    }

    private void line(String line, int number) {
        String where = "line " + number + ": '" + line + "'";
        if (line.startsWith("#")) {
            Matcher h = HELP.matcher(line);
            Matcher t = TYPE.matcher(line);
            if (h.matches()) {
                assertTrue(help.put(h.group(1), h.group(2)) == null, "HELP repeated, " + where);
                assertFalse(h.group(2).isBlank(), "empty HELP, " + where);
            } else if (t.matches()) {
                assertTrue(types.put(t.group(1), t.group(2)) == null, "TYPE repeated, " + where);
                assertTrue(help.containsKey(t.group(1)), "TYPE before HELP, " + where);
                assertTrue(samples.stream().noneMatch(s -> family(s.name()).equals(t.group(1))), "TYPE after samples, " + where);
            } else {
                fail("a comment that is neither HELP nor TYPE, " + where);
            }
            return;
        }
        Matcher s = SAMPLE.matcher(line);
        assertTrue(s.matches(), "not a sample, " + where);
        String name = s.group(1);
        // vllm: holds only the model server protocol's gauges (ModelServerProtocolMetrics).
        assertTrue(name.startsWith("sluice:") || name.startsWith("vllm:"), "not in the sluice: or vllm: namespace, " + where);
        String family = family(name);
        assertNotNull(types.get(family), "sample of an undeclared family, " + where);
        Map<String, String> labels = new LinkedHashMap<>();
        if (s.group(2) != null) {
            Matcher l = LABEL.matcher(s.group(2));
            int end = 0;
            while (end < s.group(2).length() && l.find(end) && l.start() == end) {
                assertTrue(labels.put(l.group(1), l.group(2)) == null, "label repeated, " + where);
                end = l.end();
            }
            assertEquals(s.group(2).length(), end, "bad labels, " + where);
        }
        double value = switch (s.group(3)) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> {
                try {
                    yield Double.parseDouble(s.group(3));
                } catch (NumberFormatException e) {
                    throw new AssertionError("bad value, " + where);
                }
            }
        };
        String type = types.get(family);
        if (type.equals("counter")) {
            assertTrue(name.endsWith("_total"), "a counter not named _total, " + where);
            assertTrue(value >= 0, "negative counter, " + where);
        }
        if (name.endsWith("_bucket")) {
            assertTrue(labels.containsKey("le"), "a bucket without le, " + where);
        }
        samples.add(new Sample(name, labels, value));
    }

    /** The declared family a sample belongs to: itself, or a histogram's name without its suffix. */
    private String family(String name) {
        if (types.containsKey(name)) {
            return name;
        }
        for (String suffix : List.of("_bucket", "_sum", "_count")) {
            if (name.endsWith(suffix)) {
                String base = name.substring(0, name.length() - suffix.length());
                if ("histogram".equals(types.get(base))) {
                    return base;
                }
            }
        }
        return name;
    }

    /** Every histogram series (one per label set but {@code le}): increasing bounds, cumulative counts, +Inf = count. */
    private void checkHistograms() {
        for (Map.Entry<String, String> e : types.entrySet()) {
            if (!e.getValue().equals("histogram")) {
                continue;
            }
            String name = e.getKey();
            List<Sample> all = samples.stream().filter(s -> s.name().equals(name + "_bucket")).toList();
            assertFalse(all.isEmpty(), name + " has no buckets");
            Map<Map<String, String>, List<Sample>> series = new LinkedHashMap<>();
            for (Sample b : all) {
                Map<String, String> key = new LinkedHashMap<>(b.labels());
                key.remove("le");
                series.computeIfAbsent(key, k -> new java.util.ArrayList<>()).add(b);
            }
            series.forEach((labels, buckets) -> {
                double previousLe = Double.NEGATIVE_INFINITY;
                double previousCount = 0;
                for (Sample b : buckets) {
                    String le = b.labels().get("le");
                    double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
                    assertTrue(bound > previousLe, name + labels + ": bucket bounds must increase: " + le);
                    assertTrue(b.value() >= previousCount, name + labels + ": buckets must be cumulative at le=" + le);
                    previousLe = bound;
                    previousCount = b.value();
                }
                assertEquals("+Inf", buckets.getLast().labels().get("le"), name + labels + ": the last bucket is +Inf");
                assertEquals(buckets.getLast().value(), one(name + "_count", labels), name + labels + ": +Inf bucket equals _count");
                assertTrue(one(name + "_sum", labels) >= 0, name + labels + "_sum");
            });
        }
    }

    private double one(String name, Map<String, String> labels) {
        List<Sample> found = samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(labels)).toList();
        assertEquals(1, found.size(), () -> "samples named " + name + labels + ": " + found);
        return found.getFirst().value();
    }

    public Map<String, String> types() {
        return types;
    }

    public List<Sample> samples() {
        return samples;
    }

    /** The value of the one sample named {@code name}. */
    public double value(String name) {
        List<Sample> found = samples.stream().filter(s -> s.name().equals(name)).toList();
        assertEquals(1, found.size(), () -> "samples named " + name + ": " + found);
        return found.getFirst().value();
    }

    /** The value of the sample named {@code name} with label {@code key="value"}. */
    public double value(String name, String key, String labelValue) {
        List<Sample> found = samples.stream()
                .filter(s -> s.name().equals(name) && labelValue.equals(s.labels().get(key))).toList();
        assertEquals(1, found.size(), () -> "samples named " + name + " with " + key + "=" + labelValue + ": " + found);
        return found.getFirst().value();
    }
}
