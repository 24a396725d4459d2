package dev.sluice.engine.chat;

import java.util.regex.Pattern;

/**
 * Rewrites a Jinja template's source where Jinjava would read it differently from Jinja2, before
 * Jinjava parses it:
 *
 * <ul>
 *   <li>{@code lstrip_blocks}: Jinja2 removes the spaces and tabs before a block or comment tag only
 *       when nothing else precedes the tag on its line; Jinjava's option removes them before every
 *       tag ({@code {{ a }} {% if b %}} would lose its space). Done here instead, Jinja2's way,
 *       including {@code {%+} that keeps the indent.
 *   <li>Jinja2 drops one trailing newline of the source. Jinjava's equivalent drops it from the
 *       output instead, which would eat a generation prompt that ends in a newline.
 *   <li>{@code x[::-1]}: Jinjava's parser rejects a slice with a step; it becomes a subscript that
 *       {@link PythonMethods} answers with the reversed sequence.
 * </ul>
 */
final class TemplateSource {

    private static final Pattern REVERSE_SLICE = Pattern.compile("\\[\\s*:\\s*:\\s*-1\\s*]");
    private static final Pattern RAW = Pattern.compile("\\{%[-+]?\\s*raw\\s*[-+]?%}");
    private static final Pattern END_RAW = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%}");

    private TemplateSource() {
    }

    static String adapt(String source) {
        String s = source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            if (!s.startsWith("{", i) || i + 1 == s.length() || "{%#".indexOf(s.charAt(i + 1)) < 0) {
                out.append(s.charAt(i++));
                continue;
            }
            char kind = s.charAt(i + 1);
            if (kind != '{' && i + 2 < s.length() && s.charAt(i + 2) == '+') {
                // {%+ keeps the indent; Jinjava does not know the marker.
                out.append('{').append(kind);
                i += 3;
                continue;
            }
            if (kind != '{') {
                stripLineIndent(out);
            }
            if (kind == '%' && RAW.matcher(s).region(i, s.length()).lookingAt()) {
                var endRaw = END_RAW.matcher(s);
                int end = endRaw.find(i) ? endRaw.end() : s.length();
                out.append(s, i, end);
                i = end;
                continue;
            }
            int end = kind == '#' ? closeComment(s, i) : closeTag(s, i, kind == '{' ? '}' : '%');
            String tag = s.substring(i, end);
            out.append(kind == '#' ? tag : REVERSE_SLICE.matcher(tag).replaceAll("['" + PythonMethods.REVERSED + "']"));
            i = end;
        }
        return out.toString();
    }

    /** Removes the spaces and tabs that end {@code out} when only they stand between a line start and the end. */
    private static void stripLineIndent(StringBuilder out) {
        int start = out.length();
        while (start > 0 && (out.charAt(start - 1) == ' ' || out.charAt(start - 1) == '\t')) {
            start--;
        }
        if (start == 0 || out.charAt(start - 1) == '\n') {
            out.setLength(start);
        }
    }

    /** The index after the {@code }}} or {@code %}} that closes the tag at {@code start}, skipping string literals. */
    private static int closeTag(String s, int start, char closing) {
        char quote = 0;
        for (int i = start + 2; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == closing && i + 1 < s.length() && s.charAt(i + 1) == '}') {
                return i + 2;
            }
        }
        return s.length();
    }

    private static int closeComment(String s, int start) {
        int end = s.indexOf("#}", start + 2);
        return end < 0 ? s.length() : end + 2;
    }
}
