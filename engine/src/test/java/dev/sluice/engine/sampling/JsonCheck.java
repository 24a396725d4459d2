package dev.sluice.engine.sampling;

/** A strict JSON syntax check (RFC 8259), enough to tell whether grammar-constrained output parses. */
final class JsonCheck {

    private final String text;
    private int at;

    private JsonCheck(String text) {
        this.text = text;
    }

    /** True if {@code text} is one JSON value, with optional surrounding whitespace. */
    static boolean isValid(String text) {
        JsonCheck check = new JsonCheck(text);
        try {
            check.value();
            check.whitespace();
            return check.at == text.length();
        } catch (IllegalStateException | StringIndexOutOfBoundsException e) {
            return false;
        }
    }

    private void value() {
        whitespace();
        char c = text.charAt(at);
        switch (c) {
            case '{' -> members('}', true);
            case '[' -> members(']', false);
            case '"' -> string();
            case 't' -> literal("true");
            case 'f' -> literal("false");
            case 'n' -> literal("null");
            default -> number();
        }
    }

    private void members(char close, boolean object) {
        at++;
        whitespace();
        if (text.charAt(at) == close) {
            at++;
            return;
        }
        while (true) {
            if (object) {
                whitespace();
                string();
                whitespace();
                expect(':');
            }
            value();
            whitespace();
            if (text.charAt(at) == close) {
                at++;
                return;
            }
            expect(',');
        }
    }

    private void string() {
        expect('"');
        while (true) {
            char c = text.charAt(at++);
            if (c == '"') {
                return;
            }
            if (c < 0x20) {
                throw new IllegalStateException("control character in string");
            }
            if (c == '\\') {
                char escape = text.charAt(at++);
                if (escape == 'u') {
                    for (int i = 0; i < 4; i++) {
                        if (Character.digit(text.charAt(at++), 16) < 0) {
                            throw new IllegalStateException("bad \\u escape");
                        }
                    }
                } else if ("\"\\/bfnrt".indexOf(escape) < 0) {
                    throw new IllegalStateException("bad escape");
                }
            }
        }
    }

    private void number() {
        int start = at;
        if (text.charAt(at) == '-') {
            at++;
        }
        if (text.charAt(at) == '0') {
            at++;
        } else {
            digits();
        }
        if (at < text.length() && text.charAt(at) == '.') {
            at++;
            digits();
        }
        if (at < text.length() && (text.charAt(at) == 'e' || text.charAt(at) == 'E')) {
            at++;
            if (text.charAt(at) == '+' || text.charAt(at) == '-') {
                at++;
            }
            digits();
        }
        if (at == start) {
            throw new IllegalStateException("not a value");
        }
    }

    private void digits() {
        int start = at;
        while (at < text.length() && Character.isDigit(text.charAt(at)) && text.charAt(at) < 0x80) {
            at++;
        }
        if (at == start) {
            throw new IllegalStateException("digit expected");
        }
    }

    private void literal(String word) {
        if (!text.startsWith(word, at)) {
            throw new IllegalStateException(word + " expected");
        }
        at += word.length();
    }

    private void expect(char c) {
        if (text.charAt(at++) != c) {
            throw new IllegalStateException(c + " expected");
        }
    }

    private void whitespace() {
        while (at < text.length() && " \t\n\r".indexOf(text.charAt(at)) >= 0) {
            at++;
        }
    }
}
