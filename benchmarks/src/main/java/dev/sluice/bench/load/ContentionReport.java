package dev.sluice.bench.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Markdown report of {@code bin/contention}: per load and server, the median and p90
 * end-to-end latency of the same request and the median divided by the baseline load's (idle)
 * median of the same server in the same run; the chosen server pairs' medians divided; and what
 * each server's threads spent per request on CPU and waiting in the run queue.
 *
 * <p>Only ratios measured in one run mean anything on a shared machine: the absolute figures move
 * with whatever else the host does.
 */
final class ContentionReport {

    private ContentionReport() {
    }

    /** Median and p90 of one server's latencies under one load; count 0 when there are none. */
    record Latency(int count, double medianMs, double p90Ms) {

        static final Latency NONE = new Latency(0, Double.NaN, Double.NaN);

        static Latency of(double[] ms) {
            if (ms == null || ms.length == 0) {
                return NONE;
            }
            double[] sorted = ms.clone();
            java.util.Arrays.sort(sorted);
            return new Latency(sorted.length, Distribution.percentile(sorted, 50), Distribution.percentile(sorted, 90));
        }
    }

    /** {@code value / baseline}, NaN where either is missing or the baseline is not positive. */
    static double ratio(double value, double baseline) {
        return Double.isNaN(value) || Double.isNaN(baseline) || baseline <= 0 ? Double.NaN : value / baseline;
    }

    /** One load's row: each server's latency and its median over the baseline's, in server order. */
    record Row(String load, List<Latency> latencies, List<Double> toBaseline, List<Double> pairRatios) {
    }

    static List<Row> rows(List<ContentionPhase> phases, List<String> servers, String baseline,
                          List<ContentionCommand.Pair> pairs) {
        ContentionPhase base = phases.stream().filter(p -> p.load().equals(baseline)).findFirst().orElse(null);
        List<Row> rows = new ArrayList<>();
        for (ContentionPhase phase : phases) {
            List<Latency> latencies = new ArrayList<>();
            List<Double> toBaseline = new ArrayList<>();
            for (String server : servers) {
                Latency l = latency(phase, server);
                latencies.add(l);
                toBaseline.add(ratio(l.medianMs(), latency(base, server).medianMs()));
            }
            List<Double> pairRatios = new ArrayList<>();
            for (ContentionCommand.Pair pair : pairs) {
                pairRatios.add(ratio(latency(phase, pair.numerator()).medianMs(), latency(phase, pair.denominator()).medianMs()));
            }
            rows.add(new Row(phase.load(), latencies, toBaseline, pairRatios));
        }
        return rows;
    }

    private static Latency latency(ContentionPhase phase, String server) {
        ContentionPhase.Server s = phase == null ? null : phase.server(server);
        return s == null ? Latency.NONE : Latency.of(s.e2eMs());
    }

    static String markdown(ContentionCommand.Report report, List<ContentionPhase> phases, String context) {
        List<String> servers = report.servers();
        StringBuilder md = new StringBuilder();
        md.append("# ").append(report.title()).append("\n\n");
        if (!report.command().isBlank()) {
            md.append("Produced by:\n\n```\n").append(report.command().strip()).append("\n```\n\n");
        }
        if (context != null && !context.isBlank()) {
            md.append(context.strip()).append("\n\n");
        }

        md.append("## End-to-end latency (seconds)\n\n");
        md.append("Median and p90 of every request's time from sending it to the end of its stream; ")
                .append("`× ").append(report.baseline()).append("` is the median divided by the same server's median under `")
                .append(report.baseline()).append("` in this run.\n\n");
        StringBuilder head = new StringBuilder("| load |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String server : servers) {
            head.append(' ').append(server).append(" median | p90 | × ").append(report.baseline()).append(" |");
            rule.append("---:|---:|---:|");
        }
        for (ContentionCommand.Pair pair : report.pairs()) {
            head.append(' ').append(pair.numerator()).append(" / ").append(pair.denominator()).append(" |");
            rule.append("---:|");
        }
        md.append(head).append('\n').append(rule).append('\n');
        for (Row row : rows(phases, servers, report.baseline(), report.pairs())) {
            md.append("| ").append(row.load()).append(" |");
            for (int i = 0; i < servers.size(); i++) {
                Latency l = row.latencies().get(i);
                md.append(' ').append(seconds(l.medianMs())).append(" | ").append(seconds(l.p90Ms())).append(" | ")
                        .append(times(row.toBaseline().get(i))).append(" |");
            }
            for (double r : row.pairRatios()) {
                md.append(' ').append(times(r)).append(" |");
            }
            md.append('\n');
        }

        md.append("\n## Server threads per request\n\n");
        md.append("CPU time and run-queue wait (ready to run, but another task had the core) of all the server's threads ")
                .append("over the measured requests, divided by their number.\n\n");
        md.append("| load | server | requests | errors | CPU (ms / request) | run-queue wait (ms / request) |\n");
        md.append("|---|---|---:|---:|---:|---:|\n");
        for (ContentionPhase phase : phases) {
            for (String server : servers) {
                ContentionPhase.Server s = phase.server(server);
                if (s == null) {
                    continue;
                }
                int n = Math.max(1, s.requests());
                md.append("| ").append(phase.load()).append(" | ").append(server).append(" | ").append(s.requests())
                        .append(" | ").append(s.errors()).append(s.firstError() == null ? "" : " (" + s.firstError() + ")")
                        .append(" | ").append(String.format(Locale.ROOT, "%.1f", s.cpuMs() / n))
                        .append(" | ").append(String.format(Locale.ROOT, "%.1f", s.runQueueWaitMs() / n)).append(" |\n");
            }
        }

        md.append("\n## Loads\n\n");
        for (ContentionPhase phase : phases) {
            md.append("- `").append(phase.load()).append("`: ").append(phase.description().isBlank() ? "-" : phase.description().strip())
                    .append(String.format(Locale.ROOT, " (measured from %s, %.0f s)", phase.startedAt(), phase.seconds()));
            if (!phase.hostBefore().isBlank()) {
                md.append("; host before: ").append(phase.hostBefore().strip());
            }
            md.append('\n');
        }
        return md.toString();
    }

    static String seconds(double ms) {
        return Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%.3f", ms / 1000);
    }

    static String times(double ratio) {
        return Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, ratio < 10 ? "%.2f×" : "%.0f×", ratio);
    }
}
