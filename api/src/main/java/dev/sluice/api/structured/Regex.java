package dev.sluice.api.structured;

import java.util.ArrayList;
import java.util.List;

/**
 * A regular expression in the ECMA-262 subset JSON schemas and vLLM's {@code guided_regex} use,
 * parsed into a tree {@link RegexGrammar} turns into GBNF: literals, escapes ({@code \d \w \s}
 * and their negations, {@code \t \n \r \v \f \0 \xHH}, backslash-u with 4 hex digits or in braces, escaped punctuation), classes
 * with ranges and negation, {@code .}, groups ({@code (...)}, {@code (?:...)}, {@code (?<name>...)}),
 * alternation, the quantifiers {@code * + ? {n} {n,} {n,m}} (lazy or not: the same language), and
 * {@code ^} / {@code $} at the start / end of a top-level alternative. Anything else (backreferences,
 * lookaround, word boundaries, flags, anchors elsewhere) is refused with
 * {@link UnsupportedSchemaException}, never approximated.
 *
 * <p>Where ECMA and {@code java.util.regex} disagree, a character class keeps only what both
 * accept: {@code \s} is the ASCII white space, {@code .} excludes U+0085 too.
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
    /** Every Unicode scalar value (no surrogates: they are not text, and UTF-8 cannot carry them). */
    private static final int[] ANY = {0, 0xD7FF, 0xE000, MAX_CODE_POINT};
    private static final int[] DIGIT = {'0', '9'};
    private static final int[] WORD = {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'};
    private static final int[] SPACE_ASCII = {'\t', '\r', ' ', ' '};
    private static final int[] SPACE_ECMA = {'\t', '\r', ' ', ' ', 0xA0, 0xA0, 0x1680, 0x1680, 0x2000, 0x200A,
            0x2028, 0x2029, 0x202F, 0x202F, 0x205F, 0x205F, 0x3000, 0x3000, 0xFEFF, 0xFEFF};
    private static final int[] LINE_TERMINATORS = {'\n', '\n', '\r', '\r', 0x85, 0x85, 0x2028, 0x2029};
    /** Patterns longer than this are refused before parsing. */
    static final int MAX_LENGTH = 4096;

    private final String source;
    private final int[] cps;
    private final String keyword;
    private final String path;
    private int pos;
    private int depth;

    private Regex(String source, String keyword, String path) {
        this.source = source;
        this.cps = source.codePoints().toArray();
        this.keyword = keyword;
        this.path = path;
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
        Regex parser = new Regex(regex, keyword, path);
        List<Branch> branches = new ArrayList<>();
        do {
            boolean start = parser.eat('^');
            Node node = parser.sequence();
            boolean end = parser.eat('$');
            if (parser.pos < parser.cps.length && parser.cps[parser.pos] != '|') {
                if (parser.cps[parser.pos] == ')') {
                    throw parser.invalid("an unbalanced ')'");
                }
                throw parser.unsupported("anchors other than at the start or end");
            }
            branches.add(new Branch(node, start, end));
        } while (parser.eat('|'));
        return branches;
    }

    private Node alternation() {
        List<Node> options = new ArrayList<>();
        options.add(sequence());
        while (eat('|')) {
            options.add(sequence());
        }
        return options.size() == 1 ? options.getFirst() : new Alt(options);
    }

    private Node sequence() {
        List<Node> items = new ArrayList<>();
        while (pos < cps.length) {
            int c = cps[pos];
            if (c == '|' || c == ')' || c == '$' && (pos + 1 == cps.length || cps[pos + 1] == '|' || cps[pos + 1] == ')')) {
                if (c == '$' && depth > 0) {
                    throw unsupported("'$' inside a group");
                }
                break;
            }
            items.add(quantified(atom()));
        }
        return items.size() == 1 ? items.getFirst() : new Seq(items);
    }

    private Node quantified(Node atom) {
        while (pos < cps.length) {
            int c = cps[pos];
            int min;
            int max;
            if (c == '*' || c == '+' || c == '?') {
                pos++;
                min = c == '+' ? 1 : 0;
                max = c == '?' ? 1 : -1;
            } else if (c == '{' && countsFollow()) {
                pos++;
                min = number();
                max = min;
                if (eat(',')) {
                    max = pos < cps.length && cps[pos] == '}' ? -1 : number();
                }
                expect('}');
                if (max >= 0 && max < min) {
                    throw new InvalidSchemaException(path, "The regular expression in '" + keyword + "' has a quantifier {"
                            + min + "," + max + "} out of order.");
                }
            } else {
                return atom;
            }
            eat('?'); // lazy: the same language
            if (pos < cps.length && (cps[pos] == '*' || cps[pos] == '+' || cps[pos] == '?'
                    || cps[pos] == '{' && countsFollow())) {
                throw invalid("nothing to repeat");
            }
            atom = new Repeat(atom, min, max);
        }
        return atom;
    }

    private boolean countsFollow() {
        int i = pos + 1;
        int digits = 0;
        while (i < cps.length && cps[i] >= '0' && cps[i] <= '9') {
            i++;
            digits++;
        }
        if (digits == 0) {
            return false;
        }
        if (i < cps.length && cps[i] == ',') {
            i++;
            while (i < cps.length && cps[i] >= '0' && cps[i] <= '9') {
                i++;
            }
        }
        return i < cps.length && cps[i] == '}';
    }

    private int number() {
        long value = 0;
        int start = pos;
        while (pos < cps.length && cps[pos] >= '0' && cps[pos] <= '9') {
            value = Math.min(value * 10 + (cps[pos++] - '0'), Integer.MAX_VALUE);
        }
        if (pos == start) {
            throw invalid("a quantifier without a number");
        }
        return (int) value;
    }

    private Node atom() {
        int c = cps[pos++];
        switch (c) {
            case '(' -> {
                if (eat('?')) {
                    if (eat(':')) {
                        // a non-capturing group
                    } else if (pos < cps.length && cps[pos] == '<' && pos + 1 < cps.length
                            && cps[pos + 1] != '=' && cps[pos + 1] != '!') {
                        while (pos < cps.length && cps[pos] != '>') {
                            pos++;
                        }
                        expect('>');
                    } else {
                        throw unsupported("lookaround or inline flags '(?'");
                    }
                }
                if (++depth > 64) {
                    throw unsupported("groups nested deeper than 64");
                }
                Node inner = alternation();
                depth--;
                expect(')');
                return inner;
            }
            case '[' -> {
                return charClass();
            }
            case '.' -> {
                return new Chars(CharSets.minus(ANY, LINE_TERMINATORS));
            }
            case '\\' -> {
                return new Chars(escape(false));
            }
            case '*', '+', '?' -> throw invalid("nothing to repeat before '" + Character.toString(c) + "'");
            case '^' -> throw unsupported("'^' other than at the start");
            case '$' -> throw unsupported("'$' other than at the end");
            case ')' -> throw invalid("unbalanced ')'");
            default -> {
                return new Chars(new int[]{c, c});
            }
        }
    }

    private Chars charClass() {
        boolean negated = eat('^');
        List<int[]> parts = new ArrayList<>();
        boolean first = true;
        while (true) {
            if (pos >= cps.length) {
                throw invalid("an unterminated character class");
            }
            int c = cps[pos];
            if (c == ']' && !first) {
                pos++;
                break;
            }
            if (c == ']') { // ECMA: '[]' matches nothing; '[^]' matches anything
                pos++;
                return new Chars(negated ? ANY : new int[0]);
            }
            first = false;
            pos++;
            int[] lo = c == '\\' ? escape(true) : new int[]{c, c};
            if (lo.length == 2 && lo[0] == lo[1] && pos + 1 < cps.length && cps[pos] == '-' && cps[pos + 1] != ']') {
                pos++;
                int d = cps[pos++];
                int[] hi = d == '\\' ? escape(true) : new int[]{d, d};
                if (hi.length != 2 || hi[0] != hi[1]) {
                    throw invalid("a range ending in a class escape");
                }
                if (hi[0] < lo[0]) {
                    throw invalid("a character range out of order");
                }
                parts.add(new int[]{lo[0], hi[0]});
            } else {
                parts.add(lo);
            }
        }
        int[] set = CharSets.union(parts);
        return new Chars(negated ? CharSets.minus(ANY, set) : set);
    }

    /** After a backslash: the code point ranges it stands for. */
    private int[] escape(boolean inClass) {
        if (pos >= cps.length) {
            throw invalid("a trailing backslash");
        }
        int c = cps[pos++];
        return switch (c) {
            case 'd' -> DIGIT;
            case 'D' -> CharSets.minus(ANY, DIGIT);
            case 'w' -> WORD;
            case 'W' -> CharSets.minus(ANY, WORD);
            case 's' -> SPACE_ASCII;
            case 'S' -> CharSets.minus(ANY, SPACE_ECMA);
            case 't' -> one('\t');
            case 'n' -> one('\n');
            case 'r' -> one('\r');
            case 'v' -> one(0x0B);
            case 'f' -> one('\f');
            case '0' -> {
                if (pos < cps.length && cps[pos] >= '0' && cps[pos] <= '9') {
                    throw unsupported("octal escapes");
                }
                yield one(0);
            }
            case 'b' -> {
                if (!inClass) {
                    throw unsupported("word boundaries '\\b'");
                }
                yield one(8);
            }
            case 'x' -> one(hex(2));
            case 'u' -> {
                if (eat('{')) {
                    int start = pos;
                    while (pos < cps.length && cps[pos] != '}') {
                        pos++;
                    }
                    if (pos - start < 1 || pos - start > 6) {
                        throw invalid("a malformed \\u{...} escape");
                    }
                    pos = start;
                    int value = hex(0);
                    expect('}');
                    if (value > MAX_CODE_POINT) {
                        throw invalid("a code point beyond U+10FFFF");
                    }
                    yield one(value);
                }
                yield one(hex(4));
            }
            default -> {
                if (c >= '1' && c <= '9') {
                    throw unsupported("backreferences");
                }
                if (Character.isLetterOrDigit(c)) {
                    throw unsupported("the escape '\\" + Character.toString(c) + "'");
                }
                yield one(c);
            }
        };
    }

    /** {@code count} hex digits, or (0) as many as there are. */
    private int hex(int count) {
        int value = 0;
        int read = 0;
        while (pos < cps.length && (count == 0 || read < count) && Character.digit(cps[pos], 16) >= 0) {
            value = value * 16 + Character.digit(cps[pos++], 16);
            read++;
        }
        if (read == 0 || count > 0 && read < count) {
            throw invalid("a malformed hexadecimal escape");
        }
        return value;
    }

    private static int[] one(int c) {
        return new int[]{c, c};
    }

    private boolean eat(int c) {
        if (pos < cps.length && cps[pos] == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void expect(int c) {
        if (!eat(c)) {
            throw invalid("a missing '" + Character.toString(c) + "'");
        }
    }

    private UnsupportedSchemaException unsupported(String what) {
        return new UnsupportedSchemaException(keyword, path, "The regular expression '" + source + "' in '" + keyword
                + "' uses " + what + ", which cannot be enforced by a grammar.");
    }

    private InvalidSchemaException invalid(String what) {
        return new InvalidSchemaException(path, "The regular expression '" + source + "' in '" + keyword
                + "' is invalid: " + what + " at position " + pos + ".");
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
