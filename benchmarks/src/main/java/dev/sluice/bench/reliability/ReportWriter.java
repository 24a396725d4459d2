package dev.sluice.bench.reliability;

import java.util.List;

/** Renders the suite's Markdown report: header, summary table of every criterion, then each phase. */
public final class ReportWriter {

    /**
     * @param date    e.g. 2026-11-29
     * @param command the exact command line that produced the report
     * @param context lines about the build, machine and models, each rendered as a bullet
     */
    public record Header(String date, String command, List<String> context) {
    }

    private ReportWriter() {
    }

    public static String render(Header header, List<PhaseResult> phases) {
        StringBuilder md = new StringBuilder();
        md.append("# Reliability run, ").append(header.date()).append("\n\n");
        md.append("Command:\n\n```\n").append(header.command()).append("\n```\n\n");
        for (String line : header.context()) {
            md.append("- ").append(line).append('\n');
        }
        md.append('\n');
        long fails = phases.stream().flatMap(p -> p.criteria().stream()).filter(c -> c.verdict() == Verdict.FAIL).count();
        long passes = phases.stream().flatMap(p -> p.criteria().stream()).filter(c -> c.verdict() == Verdict.PASS).count();
        md.append("## Summary\n\n");
        md.append(passes).append(" passed, ").append(fails).append(" failed.\n\n");
        md.append("| phase | criterion | measured | verdict |\n|---|---|---|---|\n");
        for (PhaseResult phase : phases) {
            for (Criterion c : phase.criteria()) {
                md.append("| ").append(cell(phase.phase())).append(" | ").append(cell(c.name())).append(" | ")
                        .append(cell(c.measured())).append(" | ").append(c.verdict().label()).append(" |\n");
            }
        }
        md.append('\n');
        for (PhaseResult phase : phases) {
            md.append("## ").append(phase.title()).append("\n\n");
            if (!phase.setup().isBlank()) {
                md.append(phase.setup().strip()).append("\n\n");
            }
            if (!phase.details().isBlank()) {
                md.append(phase.details().strip()).append("\n\n");
            }
        }
        return md.toString();
    }

    /** Text safe inside a Markdown table cell: no pipes or line breaks. */
    public static String cell(String text) {
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ");
    }

    /** Text safe inside inline code: control characters shown, backticks replaced, capped in length. */
    public static String code(String text, int max) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < text.length() && s.length() < max; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                s.append(String.format("\\x%02x", (int) c));
            } else if (c == '`') {
                s.append('\'');
            } else if (c == '|') {
                s.append("\\|");
            } else {
                s.append(c);
            }
        }
        if (s.length() >= max && text.length() > max) {
            s.append("...");
        }
        return "`" + s + "`";
    }
}
