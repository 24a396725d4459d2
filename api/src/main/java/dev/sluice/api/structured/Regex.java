package dev.sluice.api.structured;

import java.util.List;

/**
 * A regular expression in the ECMA-262 subset JSON schemas and vLLM's {@code guided_regex} use,
 * as the tree {@link RegexGrammar} turns into GBNF: literals, escapes ({@code \d \w \s}
 * and their negations, {@code \t \n \r \v \f \0 \xHH}, backslash-u with 4 hex digits or in braces, escaped punctuation), classes
 * with ranges and negation, {@code .}, groups ({@code (...)}, {@code (?:...)}, {@code (?<name>...)}),
 * alternation, the quantifiers {@code * + ? {n} {n,} {n,m}} (lazy or not: the same language), and
 * {@code ^} / {@code $} at the start / end of a top-level alternative. Anything else (backreferences,
 * lookaround, word boundaries, flags, anchors elsewhere) is refused with
 * {@link UnsupportedSchemaException}, never approximated.
 *
 * <p>{@link RegexParser} reads the structure (groups, alternation, quantifiers) and
 * {@link RegexCharClasses} what a class or an escape stands for; this class is the tree they
 * build and what is measured on it.
 */
final class Regex {

    sealed interface Node permits Chars, Seq, Alt, Repeat {
    }

    /** One code point from sorted, disjoint inclusive ranges {@code [lo0, hi0, lo1, hi1, ...]}. */
    record Chars(int[] ranges) implements Node {
        boolean single() {
            return ranges.length == 2 && ranges[0] == ranges[1];
        }
    }

    record Seq(List<Node> items) implements Node {
    }

    record Alt(List<Node> options) implements Node {
    }

    /** {@code max < 0}: unbounded. */
    record Repeat(Node item, int min, int max) implements Node {
    }

    /** A top-level alternative and whether it is anchored at its start and end. */
    record Branch(Node node, boolean anchoredStart, boolean anchoredEnd) {
    }

    static final int MAX_CODE_POINT = Character.MAX_CODE_POINT;
    /** Patterns longer than this are refused before parsing. */
    static final int MAX_LENGTH = 4096;

    private Regex() {
    }

    /**
     * @param keyword the keyword or parameter the regex came from, for errors
     * @param path    where in the schema, for errors
     */
    static List<Branch> parse(String regex, String keyword, String path) {
        if (regex.length() > MAX_LENGTH) {
            throw new UnsupportedSchemaException(keyword, path, "The regular expression in '" + keyword + "' is longer than "
                    + MAX_LENGTH + " characters.");
        }
        return new RegexParser(new RegexCursor(regex, keyword, path)).branches();
    }

    /** The fewest and most code points a node matches ({@code max < 0}: unbounded). */
    static long[] lengths(Node node) {
        return switch (node) {
            case Chars c -> c.ranges().length == 0 ? new long[]{0, 0} : new long[]{1, 1};
            case Seq s -> {
                long min = 0;
                long max = 0;
                for (Node item : s.items()) {
                    long[] l = lengths(item);
                    min += l[0];
                    max = max < 0 || l[1] < 0 ? -1 : max + l[1];
                }
                yield new long[]{min, max};
            }
            case Alt a -> {
                long min = Long.MAX_VALUE;
                long max = 0;
                for (Node option : a.options()) {
                    long[] l = lengths(option);
                    min = Math.min(min, l[0]);
                    max = max < 0 || l[1] < 0 ? -1 : Math.max(max, l[1]);
                }
                yield new long[]{min, max};
            }
            case Repeat r -> {
                long[] l = lengths(r.item());
                long max = r.max() < 0 ? (l[1] == 0 ? 0 : -1) : l[1] < 0 ? (r.max() == 0 ? 0 : -1) : l[1] * r.max();
                yield new long[]{l[0] * r.min(), max};
            }
        };
    }
}
