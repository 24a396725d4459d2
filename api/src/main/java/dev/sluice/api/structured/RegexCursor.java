package dev.sluice.api.structured;

/**
 * A regular expression being read, one code point at a time: the position {@link RegexParser}
 * and {@link RegexCharClasses} share, and the errors that name the regex, where it came from and
 * (for a malformed one) the position reached.
 */
final class RegexCursor {

    final int[] cps;
    int pos;
    private final String source;
    private final String keyword;
    private final String path;

    RegexCursor(String source, String keyword, String path) {
        this.source = source;
        this.cps = source.codePoints().toArray();
        this.keyword = keyword;
        this.path = path;
    }

    boolean eat(int c) {
        if (pos < cps.length && cps[pos] == c) {
            pos++;
            return true;
        }
        return false;
    }

    void expect(int c) {
        if (!eat(c)) {
            throw invalid("a missing '" + Character.toString(c) + "'");
        }
    }

    UnsupportedSchemaException unsupported(String what) {
        return new UnsupportedSchemaException(keyword, path, "The regular expression '" + source + "' in '" + keyword
                + "' uses " + what + ", which cannot be enforced by a grammar.");
    }

    InvalidSchemaException invalid(String what) {
        return new InvalidSchemaException(path, "The regular expression '" + source + "' in '" + keyword
                + "' is invalid: " + what + " at position " + pos + ".");
    }

    /** A quantifier {@code {min,max}} out of order: refused as written, without a position. */
    InvalidSchemaException outOfOrder(int min, int max) {
        return new InvalidSchemaException(path, "The regular expression in '" + keyword + "' has a quantifier {"
                + min + "," + max + "} out of order.");
    }
}
