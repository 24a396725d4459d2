package dev.sluice.api.structured;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The GBNF rules of one compiled grammar, as llama.cpp's grammar parser reads them, and the
 * bounds that keep what the parser builds from them small.
 *
 * <p>Every rule name starts with the caller's start rule name, so grammars compiled with distinct
 * start rules can be concatenated without collisions. llama.cpp expands a repetition
 * {@code x{m,n}} into {@code n} rules, multiplies the counts of all repetitions in one sequence,
 * refuses a product above 2000 and silently makes a maximum above 2000 unbounded. So
 * {@link #repeat} puts every counted repetition in a rule of its own and splits counts above
 * {@link #MAX_COUNT} into chained pieces, and the total of all counts is bounded by
 * {@link #MAX_EXPANSION}: a schema past it is refused, never an engine thread busy or out of memory.
 */
final class Gbnf {

    /** llama.cpp's {@code MAX_REPETITION_THRESHOLD}. */
    static final int MAX_COUNT = 2000;
    /** The most rules all repetitions together may expand to. */
    static final int MAX_EXPANSION = 20_000;
    /** The most characters of GBNF one grammar may have. */
    static final int MAX_CHARS = 1 << 20;

    private static final Pattern RULE_NAME = Pattern.compile("[a-zA-Z0-9-]+");

    private final String start;
    private final Map<String, String> rules = new LinkedHashMap<>();
    private final Map<String, String> byBody = new LinkedHashMap<>();
    private int counter;
    private long expansion;
    private long chars;

    Gbnf(String start) {
        if (!RULE_NAME.matcher(start).matches()) {
            throw new IllegalArgumentException("rule name '" + start + "' must be letters, digits and '-'");
        }
        this.start = start;
    }

    String start() {
        return start;
    }

    /** A fresh rule name, {@code start-hint-N}, not defined yet. */
    String reserve(String hint) {
        return start + "-" + hint + "-" + (counter++);
    }

    /** Defines a reserved name (or the start rule). */
    void define(String name, String body) {
        chars += name.length() + body.length() + 6;
        if (chars > MAX_CHARS) {
            throw new UnsupportedSchemaException("schema", "", "The grammar for this schema would exceed "
                    + MAX_CHARS + " characters; simplify the schema.");
        }
        rules.put(name, body);
    }

    /** A rule for {@code body}, shared with any earlier rule with the same body. */
    String rule(String hint, String body) {
        String existing = byBody.get(body);
        if (existing != null) {
            return existing;
        }
        String name = reserve(hint);
        define(name, body);
        byBody.put(body, name);
        return name;
    }

    /** A rule defined once per grammar under a fixed name ({@code start-name}). */
    String shared(String name, String body) {
        String full = start + "-" + name;
        if (!rules.containsKey(full)) {
            define(full, body);
        }
        return full;
    }

    boolean has(String sharedName) {
        return rules.containsKey(start + "-" + sharedName);
    }

    /**
     * An expression matching {@code item} (one symbol: a rule name, literal or class) between
     * {@code min} and {@code max} times ({@code max < 0}: unbounded).
     *
     * @throws UnsupportedSchemaException naming {@code keyword} if the counts exceed the bounds
     */
    String repeat(String item, long min, long max, String keyword, String path) {
        if (max >= 0 && max < min) {
            throw new InvalidSchemaException(path, keyword + ": the minimum count " + min + " exceeds the maximum " + max + ".");
        }
        if (max == 0) {
            return "\"\"";
        }
        if (min == 0 && max == 1) {
            return item + "?";
        }
        if (max < 0 && min <= 1) {
            return item + (min == 0 ? "*" : "+");
        }
        if (min == 1 && max == 1) {
            return item;
        }
        expansion += Math.max(min, max);
        if (expansion > MAX_EXPANSION) {
            throw new UnsupportedSchemaException(keyword, path, "'" + keyword + "' at '" + path + "' asks for "
                    + Math.max(min, max) + " repetitions; a schema may use at most " + MAX_EXPANSION
                    + " in all (its grammar would be too large).");
        }
        StringBuilder out = new StringBuilder();
        for (long left = min; left > 0; left -= MAX_COUNT) {
            long n = Math.min(left, MAX_COUNT);
            out.append(n == 1 ? item : rule("rep", item + "{" + n + "}")).append(' ');
        }
        if (max < 0) {
            out.append(item).append('*');
        } else if (max > min) {
            out.append(optionalUpTo(item, max - min));
        }
        return out.toString().strip();
    }

    /**
     * Zero to {@code n} items, unambiguously: a piece is only entered once the one before it is
     * full, so the parser never tracks more than two ways to split a run.
     */
    private String optionalUpTo(String item, long n) {
        if (n == 1) {
            return item + "?";
        }
        if (n <= MAX_COUNT) {
            return rule("rep", item + "{0," + n + "}");
        }
        String full = rule("rep", item + "{" + MAX_COUNT + "}");
        String rest = optionalUpTo(item, n - MAX_COUNT);
        return rule("rep", item + "{0," + MAX_COUNT + "} | " + full + " " + rest);
    }

    /** The rules, one per line, in definition order. */
    String render() {
        StringBuilder out = new StringBuilder();
        rules.forEach((name, body) -> out.append(name).append(" ::= ").append(body).append('\n'));
        return out.toString();
    }

    /** A GBNF string literal matching {@code text} exactly. */
    static String literal(String text) {
        StringBuilder out = new StringBuilder("\"");
        text.codePoints().forEach(c -> {
            if (c == '"' || c == '\\') {
                out.append('\\').append((char) c);
            } else if (c < 0x20 || c == 0x7F) {
                out.append(String.format("\\x%02X", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.append('"').toString();
    }

    /** One code point as it may appear in a GBNF character class. */
    static String classChar(int c) {
        if (Character.isLetterOrDigit(c) && c < 0x80) {
            return Character.toString(c);
        }
        if (c <= 0xFF) {
            return String.format("\\x%02X", c);
        }
        if (c <= 0xFFFF) {
            return String.format("\\u%04X", c);
        }
        return String.format("\\U%08X", c);
    }

    /** A character class of the inclusive code point ranges {@code [lo0, hi0, lo1, hi1, ...]}. */
    static String charClass(int[] ranges, boolean negated) {
        StringBuilder out = new StringBuilder(negated ? "[^" : "[");
        for (int i = 0; i < ranges.length; i += 2) {
            out.append(classChar(ranges[i]));
            if (ranges[i + 1] != ranges[i]) {
                out.append('-').append(classChar(ranges[i + 1]));
            }
        }
        return out.append(']').toString();
    }
}
