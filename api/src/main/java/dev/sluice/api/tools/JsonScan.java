package dev.sluice.api.tools;

/**
 * Finds where JSON values end in text that may still be growing (a model's output, token by
 * token): each method returns the index after the value, {@link #INCOMPLETE} when the text ends
 * before the value does, or a value {@code <= INVALID} when it cannot be JSON ({@link #invalidAt}
 * says where it went wrong).
 */
final class JsonScan {

    static final int INCOMPLETE = -1;
    static final int INVALID = -2;

    /** The result for text that stops being JSON at index {@code at}. */
    static int invalid(int at) {
        return INVALID - 1 - at;
    }

    static boolean isInvalid(int result) {
        return result <= INVALID;
    }

    /** Where an invalid result went wrong. */
    static int invalidAt(int result) {
        return INVALID - 1 - result;
    }

    private JsonScan() {
    }

    static int skipWhitespace(CharSequence s, int i) {
        while (i < s.length() && isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    static boolean isWhitespace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    /** The end of the value starting at {@code i} (no leading whitespace). */
    static int value(CharSequence s, int i) {
        if (i >= s.length()) {
            return INCOMPLETE;
        }
        char c = s.charAt(i);
        return switch (c) {
            case '"' -> string(s, i);
            case '{', '[' -> container(s, i);
            case 't' -> literal(s, i, "true");
            case 'f' -> literal(s, i, "false");
            case 'n' -> literal(s, i, "null");
            default -> c == '-' || (c >= '0' && c <= '9') ? number(s, i) : invalid(i);
        };
    }

    /** The end of the string literal whose opening quote is at {@code i}. */
    static int string(CharSequence s, int i) {
        for (int j = i + 1; j < s.length(); j++) {
            char c = s.charAt(j);
            if (c == '\\') {
                j++;
            } else if (c == '"') {
                return j + 1;
            } else if (c < 0x20) {
                return invalid(j);
            }
        }
        return INCOMPLETE;
    }

    /**
     * The end of the object or array at {@code i}, by bracket matching outside strings. It checks
     * nesting, not every rule of JSON: the model's arguments are passed on as it wrote them.
     */
    private static int container(CharSequence s, int i) {
        char[] stack = new char[64];
        int depth = 0;
        for (int j = i; j < s.length(); j++) {
            char c = s.charAt(j);
            if (c == '"') {
                int end = string(s, j);
                if (end < 0) {
                    return end;
                }
                j = end - 1;
            } else if (c == '{' || c == '[') {
                if (depth == stack.length) {
                    stack = java.util.Arrays.copyOf(stack, depth * 2);
                }
                stack[depth++] = c == '{' ? '}' : ']';
            } else if (c == '}' || c == ']') {
                if (depth == 0 || stack[depth - 1] != c) {
                    return invalid(j);
                }
                if (--depth == 0) {
                    return j + 1;
                }
            }
        }
        return INCOMPLETE;
    }

    private static int literal(CharSequence s, int i, String word) {
        for (int k = 0; k < word.length(); k++) {
            if (i + k >= s.length()) {
                return INCOMPLETE;
            }
            if (s.charAt(i + k) != word.charAt(k)) {
                return invalid(i + k);
            }
        }
        return i + word.length();
    }

    /** A number ends at the first character that cannot continue it; at the text's end it may go on. */
    private static int number(CharSequence s, int i) {
        int j = i;
        while (j < s.length() && "+-0123456789.eE".indexOf(s.charAt(j)) >= 0) {
            j++;
        }
        return j == s.length() ? INCOMPLETE : j;
    }

    /** The text of a complete string literal, its escapes decoded. */
    static String decode(CharSequence s, int start, int end) {
        StringBuilder out = new StringBuilder(end - start);
        for (int j = start + 1; j < end - 1; j++) {
            char c = s.charAt(j);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char e = s.charAt(++j);
            switch (e) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    if (j + 4 < end) {
                        try {
                            out.append((char) Integer.parseInt(s.subSequence(j + 1, j + 5).toString(), 16));
                        } catch (NumberFormatException ex) {
                            out.append('?');
                        }
                        j += 4;
                    }
                }
                default -> out.append(e);
            }
        }
        return out.toString();
    }
}
