package dev.sluice.api.structured;

import java.util.ArrayList;
import java.util.List;

/**
 * Regular expressions (the ECMA subset {@link Regex} parses) to GBNF, for vLLM's
 * {@code guided_regex} (the whole output matches) and JSON Schema's {@code pattern} (the string's
 * content contains a match, anchors as written, and the grammar writes the content JSON-escaped).
 */
public final class RegexGrammar {

    private static final int[] JSON_SPECIAL = {0, 0x1F, '"', '"', '\\', '\\'};

    private final Gbnf g;
    private final boolean json;
    private final String keyword;
    private final String path;

    private RegexGrammar(Gbnf g, boolean json, String keyword, String path) {
        this.g = g;
        this.json = json;
        this.keyword = keyword;
        this.path = path;
    }

    /**
     * A complete GBNF grammar, start rule {@code root}, whose language is exactly the strings
     * {@code regex} matches in full (as {@code java.util.regex.Pattern.matches} would; anchors at
     * the ends are allowed and change nothing).
     *
     * @throws UnsupportedSchemaException (keyword {@code "regex"}) for a construct it cannot enforce
     * @throws InvalidSchemaException     for a regex that does not parse
     */
    public static String compile(String regex) {
        Gbnf g = new Gbnf("root");
        RegexGrammar emitter = new RegexGrammar(g, false, "regex", "");
        List<String> options = new ArrayList<>();
        for (Regex.Branch branch : Regex.parse(regex, "regex", "")) {
            options.add(emitter.emit(branch.node()));
        }
        g.define("root", String.join(" | ", options));
        return g.render();
    }

    /**
     * An expression for the content of a JSON string (between its quotes, escaped as JSON) whose
     * decoded text contains a match of {@code pattern}, with JSON Schema's search semantics.
     */
    static String jsonContent(Gbnf g, String pattern, String path) {
        RegexGrammar emitter = new RegexGrammar(g, true, "pattern", path);
        String any = JsonRules.character(g) + "*";
        List<String> options = new ArrayList<>();
        for (Regex.Branch branch : Regex.parse(pattern, "pattern", path)) {
            String body = emitter.emit(branch.node());
            options.add(((branch.anchoredStart() ? "" : any + " ") + body + (branch.anchoredEnd() ? "" : " " + any)).strip());
        }
        return options.size() == 1 ? options.getFirst() : "( " + String.join(" | ", options) + " )";
    }

    /** The fewest and most characters a string matching {@code pattern} in full can have ({@code -1}: no most). */
    static long[] lengths(String pattern, String path) {
        long min = Long.MAX_VALUE;
        long max = 0;
        for (Regex.Branch branch : Regex.parse(pattern, "pattern", path)) {
            long[] l = Regex.lengths(branch.node());
            min = Math.min(min, l[0]);
            max = max < 0 || l[1] < 0 || !branch.anchoredStart() || !branch.anchoredEnd() ? -1 : Math.max(max, l[1]);
        }
        return new long[]{min, max};
    }

    private String emit(Regex.Node node) {
        return switch (node) {
            case Regex.Chars c -> chars(c.ranges());
            case Regex.Seq s -> sequence(s.items());
            case Regex.Alt a -> {
                List<String> options = new ArrayList<>();
                for (Regex.Node option : a.options()) {
                    options.add(emit(option));
                }
                yield "( " + String.join(" | ", options) + " )";
            }
            case Regex.Repeat r -> g.repeat(symbol(r.item()), r.min(), r.max(), keyword, path);
        };
    }

    /** Runs of single characters become one literal. */
    private String sequence(List<Regex.Node> items) {
        if (items.isEmpty()) {
            return "\"\"";
        }
        List<String> out = new ArrayList<>();
        StringBuilder run = new StringBuilder();
        for (Regex.Node item : items) {
            if (item instanceof Regex.Chars c && c.single()) {
                run.appendCodePoint(c.ranges()[0]);
                continue;
            }
            if (!run.isEmpty()) {
                out.add(literal(run.toString()));
                run.setLength(0);
            }
            out.add(emit(item));
        }
        if (!run.isEmpty()) {
            out.add(literal(run.toString()));
        }
        return String.join(" ", out);
    }

    /** One grammar symbol for a node (a class, a literal, a group or a rule). */
    private String symbol(Regex.Node node) {
        String expr = emit(node);
        if (node instanceof Regex.Chars || node instanceof Regex.Alt) {
            return expr;
        }
        return g.rule("re", expr);
    }

    private String chars(int[] set) {
        if (set.length == 0) {
            throw new UnsupportedSchemaException(keyword, path, "The regular expression in '" + keyword
                    + "' has a character class that matches nothing.");
        }
        if (!json) {
            return set.length == 2 && set[0] == set[1] ? literal(Character.toString(set[0])) : Gbnf.charClass(set, false);
        }
        List<String> options = new ArrayList<>();
        int[] plain = CharSets.minus(set, JSON_SPECIAL);
        if (plain.length > 0) {
            options.add(plain.length == 2 && plain[0] == plain[1] ? literal(Character.toString(plain[0]))
                    : Gbnf.charClass(plain, false));
        }
        for (int c : new int[]{'"', '\\', '\n', '\t', '\r', '\b', '\f'}) {
            if (CharSets.contains(set, c)) {
                options.add(literal(Character.toString(c)));
            }
        }
        if (options.isEmpty()) {
            throw new UnsupportedSchemaException(keyword, path, "The regular expression in '" + keyword
                    + "' has a character class of control characters only, which this server does not generate.");
        }
        return options.size() == 1 ? options.getFirst() : "( " + String.join(" | ", options) + " )";
    }

    /** A literal for decoded text: JSON-escaped inside a JSON string. */
    private String literal(String text) {
        return Gbnf.literal(json ? jsonEscape(text) : text);
    }

    static String jsonEscape(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().forEach(c -> {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", c));
                    } else {
                        out.appendCodePoint(c);
                    }
                }
            }
        });
        return out.toString();
    }
}
