package dev.sluice.bench.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/** The Markdown report of a run ({@code --markdown}): throughput per level, latencies per level, errors. */
final class RunReport {

    private RunReport() {
    }

    static String markdown(RunResult result) {
        RunConfig c = result.config();
        StringBuilder out = new StringBuilder();
        out.append("# Serving benchmark: ").append(c.label()).append("\n\n");
        out.append("Server `").append(c.baseUrl()).append("`, model `").append(c.model())
                .append("`, endpoint `").append(c.endpoint()).append("`, workload `").append(c.workload())
                .append("`, prompts as ").append(c.promptFormat()).append(", seed ").append(c.seed())
                .append(", ").append(limit(c)).append(" per level. Goodput counts requests with TTFT ≤ ")
                .append(Markdown.number(c.sloTtftMs(), 0)).append(" ms and TPOT ≤ ")
                .append(Markdown.number(c.sloTpotMs(), 0)).append(" ms. Started ").append(c.startedAt()).append(".\n\n");

        out.append("## Throughput\n\n");
        List<List<String>> rows = new ArrayList<>();
        for (LevelSummary s : result.summaries()) {
            rows.add(List.of(s.load().label(), Integer.toString(s.succeeded()), Integer.toString(s.failed()),
                    Markdown.number(s.durationS(), 2), Markdown.number(s.requestThroughput(), 2),
                    Markdown.number(s.outputTokensPerS(), 1), Markdown.number(s.totalTokensPerS(), 1),
                    Markdown.number(s.goodput(), 2), Integer.toString(s.peakConcurrency())));
        }
        out.append(Markdown.table(List.of("load", "ok", "failed", "duration (s)", "req/s", "output tok/s",
                "total tok/s", "goodput (req/s)", "peak concurrency"), 1, rows));

        out.append("\n## Latency (ms)\n\n");
        rows = new ArrayList<>();
        for (LevelSummary s : result.summaries()) {
            latencyRow(rows, s, "TTFT", LevelSummary::ttftMs);
            latencyRow(rows, s, "TPOT", LevelSummary::tpotMs);
            latencyRow(rows, s, "ITL", LevelSummary::itlMs);
            latencyRow(rows, s, "E2E", LevelSummary::e2eMs);
        }
        out.append(Markdown.table(List.of("load", "metric", "mean", "p50", "p90", "p99"), 2, rows));

        rows = new ArrayList<>();
        for (LevelSummary s : result.summaries()) {
            for (Map.Entry<String, Integer> error : s.errors().entrySet()) {
                rows.add(List.of(s.load().label(), error.getKey(), Integer.toString(error.getValue())));
            }
        }
        if (!rows.isEmpty()) {
            out.append("\n## Errors\n\n").append(Markdown.table(List.of("load", "error", "requests"), 2, rows));
        }
        return out.toString();
    }

    /** A level's figures as a few aligned plain-text lines, printed when the level ends. */
    static String terminal(LevelSummary s) {
        StringBuilder out = new StringBuilder();
        out.append("==== ").append(s.load().label()).append(" ====\n");
        out.append(String.format(Locale.ROOT, "requests    %d ok, %d failed in %.2f s, peak concurrency %d%n",
                s.succeeded(), s.failed(), s.durationS(), s.peakConcurrency()));
        out.append(String.format(Locale.ROOT, "throughput  %.2f req/s, %.1f output tok/s, %.1f total tok/s, goodput %.2f req/s%n",
                s.requestThroughput(), s.outputTokensPerS(), s.totalTokensPerS(), s.goodput()));
        out.append(String.format(Locale.ROOT, "%-8s %10s %10s %10s %10s%n", "(ms)", "mean", "p50", "p90", "p99"));
        terminalRow(out, "TTFT", s.ttftMs());
        terminalRow(out, "TPOT", s.tpotMs());
        terminalRow(out, "ITL", s.itlMs());
        terminalRow(out, "E2E", s.e2eMs());
        s.errors().forEach((error, count) -> out.append(String.format(Locale.ROOT, "error       %d x %s%n", count, error)));
        return out.toString();
    }

    private static void terminalRow(StringBuilder out, String metric, Distribution d) {
        out.append(String.format(Locale.ROOT, "%-8s %10.1f %10.1f %10.1f %10.1f%n", metric, d.mean(), d.p50(), d.p90(), d.p99()));
    }

    private static void latencyRow(List<List<String>> rows, LevelSummary s, String metric,
                                   Function<LevelSummary, Distribution> of) {
        Distribution d = of.apply(s);
        if (d.count() == 0) {
            rows.add(List.of(s.load().label(), metric, "–", "–", "–", "–"));
        } else {
            rows.add(List.of(s.load().label(), metric, Markdown.number(d.mean(), 1), Markdown.number(d.p50(), 1),
                    Markdown.number(d.p90(), 1), Markdown.number(d.p99(), 1)));
        }
    }

    private static String limit(RunConfig c) {
        if (c.durationS() > 0 && c.numRequests() > 0) {
            return "up to " + c.numRequests() + " requests or " + Markdown.number(c.durationS(), 0) + " s";
        }
        return c.durationS() > 0 ? Markdown.number(c.durationS(), 0) + " s" : c.numRequests() + " requests";
    }
}
