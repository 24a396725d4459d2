package dev.sluice.api.structured;

import java.util.ArrayList;
import java.util.List;

/**
 * What a character class ({@code [...]}), an escape or {@code .} in a regular expression stands
 * for, as code point ranges ({@link CharSets}' form).
 *
 * <p>Where ECMA and {@code java.util.regex} disagree, a character class keeps only what both
 * accept: {@code \s} is the ASCII white space, {@code .} excludes U+0085 too.
 */
final class RegexCharClasses {

    /** Every Unicode scalar value (no surrogates: they are not text, and UTF-8 cannot carry them). */
    private static final int[] ANY = {0, 0xD7FF, 0xE000, Regex.MAX_CODE_POINT};
    private static final int[] DIGIT = {'0', '9'};
    private static final int[] WORD = {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'};
    private static final int[] SPACE_ASCII = {'\t', '\r', ' ', ' '};
    private static final int[] SPACE_ECMA = {'\t', '\r', ' ', ' ', 0xA0, 0xA0, 0x1680, 0x1680, 0x2000, 0x200A,
            0x2028, 0x2029, 0x202F, 0x202F, 0x205F, 0x205F, 0x3000, 0x3000, 0xFEFF, 0xFEFF};
    private static final int[] LINE_TERMINATORS = {'\n', '\n', '\r', '\r', 0x85, 0x85, 0x2028, 0x2029};

    private final RegexCursor in;
    private final int[] cps;

    RegexCharClasses(RegexCursor in) {
        this.in = in;
        this.cps = in.cps;
    }

    /** {@code .}: anything but a line terminator. */
    int[] dot() {
        return CharSets.minus(ANY, LINE_TERMINATORS);
    }

    /** After a {@code '['}: the class up to and including its {@code ']'}. */
    Regex.Chars charClass() {
        boolean negated = in.eat('^');
        List<int[]> parts = new ArrayList<>();
        boolean first = true;
        while (true) {
            if (in.pos >= cps.length) {
                throw in.invalid("an unterminated character class");
            }
            int c = cps[in.pos];
            if (c == ']' && !first) {
                in.pos++;
                break;
            }
            if (c == ']') { // ECMA: '[]' matches nothing; '[^]' matches anything
                in.pos++;
                return new Regex.Chars(negated ? ANY : new int[0]);
            }
            first = false;
            in.pos++;
            int[] lo = c == '\\' ? escape(true) : new int[]{c, c};
            if (lo.length == 2 && lo[0] == lo[1] && in.pos + 1 < cps.length && cps[in.pos] == '-' && cps[in.pos + 1] != ']') {
                in.pos++;
                int d = cps[in.pos++];
                int[] hi = d == '\\' ? escape(true) : new int[]{d, d};
                if (hi.length != 2 || hi[0] != hi[1]) {
                    throw in.invalid("a range ending in a class escape");
                }
                if (hi[0] < lo[0]) {
                    throw in.invalid("a character range out of order");
                }
                parts.add(new int[]{lo[0], hi[0]});
            } else {
                parts.add(lo);
            }
        }
        int[] set = CharSets.union(parts);
        return new Regex.Chars(negated ? CharSets.minus(ANY, set) : set);
    }

    /** After a backslash: the code point ranges it stands for. */
    int[] escape(boolean inClass) {
        if (in.pos >= cps.length) {
            throw in.invalid("a trailing backslash");
        }
        int c = cps[in.pos++];
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
                if (in.pos < cps.length && cps[in.pos] >= '0' && cps[in.pos] <= '9') {
                    throw in.unsupported("octal escapes");
                }
                yield one(0);
            }
            case 'b' -> {
                if (!inClass) {
                    throw in.unsupported("word boundaries '\\b'");
                }
                yield one(8);
            }
            case 'x' -> one(hex(2));
            case 'u' -> {
                if (in.eat('{')) {
                    int start = in.pos;
                    while (in.pos < cps.length && cps[in.pos] != '}') {
                        in.pos++;
                    }
                    if (in.pos - start < 1 || in.pos - start > 6) {
                        throw in.invalid("a malformed \\u{...} escape");
                    }
                    in.pos = start;
                    int value = hex(0);
                    in.expect('}');
                    if (value > Regex.MAX_CODE_POINT) {
                        throw in.invalid("a code point beyond U+10FFFF");
                    }
                    yield one(value);
                }
                yield one(hex(4));
            }
            default -> {
                if (c >= '1' && c <= '9') {
                    throw in.unsupported("backreferences");
                }
                if (Character.isLetterOrDigit(c)) {
                    throw in.unsupported("the escape '\\" + Character.toString(c) + "'");
                }
                yield one(c);
            }
        };
    }

    /** {@code count} hex digits, or (0) as many as there are. */
    private int hex(int count) {
        int value = 0;
        int read = 0;
        while (in.pos < cps.length && (count == 0 || read < count) && Character.digit(cps[in.pos], 16) >= 0) {
            value = value * 16 + Character.digit(cps[in.pos++], 16);
            read++;
        }
        if (read == 0 || count > 0 && read < count) {
            throw in.invalid("a malformed hexadecimal escape");
        }
        return value;
    }

    private static int[] one(int c) {
        return new int[]{c, c};
    }
}
