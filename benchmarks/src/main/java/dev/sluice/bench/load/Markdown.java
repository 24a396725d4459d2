package dev.sluice.bench.load;

import java.util.List;
import java.util.Locale;

/** Markdown tables with right-aligned numeric columns. */
final class Markdown {

    private Markdown() {
    }

    /** A table whose first {@code textColumns} columns are left-aligned and the rest right-aligned. */
    static String table(List<String> header, int textColumns, List<List<String>> rows) {
        StringBuilder out = new StringBuilder();
        row(out, header);
        out.append('|');
        for (int i = 0; i < header.size(); i++) {
            out.append(i < textColumns ? "---|" : "---:|");
        }
        out.append('\n');
        for (List<String> row : rows) {
            row(out, row);
        }
        return out.toString();
    }

    private static void row(StringBuilder out, List<String> cells) {
        out.append('|');
        for (String cell : cells) {
            out.append(' ').append(cell.replace("|", "\\|").replace("\n", " ")).append(" |");
        }
        out.append('\n');
    }

    static String number(double value, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", value);
    }
}
