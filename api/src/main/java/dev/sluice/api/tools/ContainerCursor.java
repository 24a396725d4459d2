package dev.sluice.api.tools;

import java.util.Arrays;

/**
 * {@link JsonScan}'s object/array matching, resumable: it remembers how far it got, so a call's
 * growing arguments are scanned once in all rather than from their start at every token (which
 * costs the square of their length). It decides exactly as {@link JsonScan#value} does for the
 * same text: the parser's tests feed replies in every split, which takes this path, and whole,
 * which does not.
 */
final class ContainerCursor {

    private final int start;
    private int pos;
    private char[] stack = new char[16];
    private int depth;
    private boolean inString;
    private boolean escape;
    private int result = JsonScan.INCOMPLETE;

    /** @param start where the value's {@code {} or {@code [} is */
    ContainerCursor(int start) {
        this.start = start;
        this.pos = start;
    }

    /** Scans what {@code s} gained; the value's end, {@link JsonScan#INCOMPLETE}, or an invalid result. */
    int advance(CharSequence s) {
        if (result != JsonScan.INCOMPLETE) {
            return result;
        }
        for (; pos < s.length(); pos++) {
            char c = s.charAt(pos);
            if (inString) {
                if (escape) {
                    escape = false;
                } else if (c == '\\') {
                    escape = true;
                } else if (c == '"') {
                    inString = false;
                } else if (c < 0x20) {
                    return result = JsonScan.invalid(pos);
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                if (depth == stack.length) {
                    stack = Arrays.copyOf(stack, depth * 2);
                }
                stack[depth++] = c == '{' ? '}' : ']';
            } else if (c == '}' || c == ']') {
                if (depth == 0 || stack[depth - 1] != c) {
                    return result = JsonScan.invalid(pos);
                }
                if (--depth == 0) {
                    pos++;
                    return result = pos;
                }
            } else if (pos == start) {
                return result = JsonScan.invalid(pos); // not a container: the caller scans it whole
            }
        }
        return JsonScan.INCOMPLETE;
    }
}
