package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;

/**
 * Strings: {@code minLength}, {@code maxLength}, {@code pattern} and {@code format}. A format is
 * generated as a strict subset of what its RFC allows (dates with real month lengths and no
 * 29 February, times without leap seconds, plain dot-atom emails, absolute URIs with a host and a
 * plain path), so any validator that checks formats accepts it. Lengths together with a pattern
 * or format are accepted only when every match already satisfies them.
 */
final class StringRules {

    /** The formats supported and the fewest and most characters each generates ({@code -1}: no most). */
    static final Map<String, long[]> FORMATS = Map.of(
            "date", new long[]{10, 10},
            "time", new long[]{9, 21},
            "date-time", new long[]{20, 32},
            "uuid", new long[]{36, 36},
            "email", new long[]{6, -1},
            "uri", new long[]{5, -1},
            "hostname", new long[]{1, -1},
            "ipv4", new long[]{7, 15});

    /** Real top-level domains: validators check an email's against the IANA list. */
    private static final String TLDS = "\"com\" | \"org\" | \"net\" | \"edu\" | \"io\" | \"dev\" | \"ai\" | \"de\""
            + " | \"fr\" | \"uk\" | \"jp\" | \"ca\" | \"info\" | \"app\"";

    private StringRules() {
    }

    static String string(Gbnf g, JsonNode s, String path) {
        long minLength = length(s, "minLength", path, 0);
        long maxLength = length(s, "maxLength", path, -1);
        JsonNode pattern = s.get("pattern");
        JsonNode format = s.get("format");
        if (format != null) {
            if (!format.isTextual()) {
                throw new InvalidSchemaException(path, "'format' at '" + path + "' must be a string.");
            }
            long[] lengths = FORMATS.get(format.textValue());
            if (lengths == null) {
                throw new UnsupportedSchemaException("format", path, "'format': '" + format.textValue() + "' at '"
                        + path + "' is not supported; supported formats are " + String.join(", ", FORMATS.keySet().stream().sorted().toList()) + ".");
            }
            if (pattern != null) {
                throw new UnsupportedSchemaException("pattern", path, "'pattern' together with 'format' at '" + path
                        + "' cannot be enforced.");
            }
            checkLengths(minLength, maxLength, lengths, path, "format '" + format.textValue() + "'");
            return g.shared("format-" + format.textValue(), "\"\\\"\" " + format(g, format.textValue()) + " \"\\\"\"");
        }
        if (pattern != null) {
            if (!pattern.isTextual()) {
                throw new InvalidSchemaException(path, "'pattern' at '" + path + "' must be a string.");
            }
            checkLengths(minLength, maxLength, RegexGrammar.lengths(pattern.textValue(), path), path,
                    "'pattern'");
            return g.rule("pattern", "\"\\\"\" " + RegexGrammar.jsonContent(g, pattern.textValue(), path) + " \"\\\"\"");
        }
        if (minLength == 0 && maxLength < 0) {
            return JsonRules.string(g);
        }
        String keyword = maxLength >= 0 ? "maxLength" : "minLength";
        return g.rule("str", "\"\\\"\" " + g.repeat(JsonRules.character(g), minLength, maxLength, keyword, path) + " \"\\\"\"");
    }

    private static void checkLengths(long minLength, long maxLength, long[] produced, String path, String what) {
        if (minLength > produced[0]) {
            throw new UnsupportedSchemaException("minLength", path, "'minLength' together with " + what + " at '" + path
                    + "' cannot be enforced: it allows strings of " + produced[0] + " characters.");
        }
        if (maxLength >= 0 && (produced[1] < 0 || produced[1] > maxLength)) {
            throw new UnsupportedSchemaException("maxLength", path, "'maxLength' together with " + what + " at '" + path
                    + "' cannot be enforced: it allows " + (produced[1] < 0 ? "strings of any length" : "strings of "
                    + produced[1] + " characters") + ".");
        }
    }

    private static long length(JsonNode s, String keyword, String path, long absent) {
        JsonNode v = s.get(keyword);
        if (v == null) {
            return absent;
        }
        if (!v.isIntegralNumber() && !(v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0) || v.asLong() < 0) {
            throw new InvalidSchemaException(path, "'" + keyword + "' at '" + path + "' must be a non-negative integer.");
        }
        return v.asLong();
    }

    /** The content (without quotes) of a string in {@code format}. */
    private static String format(Gbnf g, String format) {
        return switch (format) {
            case "date" -> date(g);
            case "time" -> time(g);
            case "date-time" -> g.shared("date-time", date(g) + " \"T\" " + time(g));
            case "uuid" -> {
                String h4 = g.shared("hex4", "[0-9a-fA-F]{4}");
                yield g.shared("uuid", g.shared("hex8", "[0-9a-fA-F]{8}") + " \"-\" " + h4 + " \"-\" " + h4 + " \"-\" " + h4
                        + " \"-\" " + g.shared("hex12", "[0-9a-fA-F]{12}"));
            }
            case "email" -> {
                String atom = g.shared("email-atom", "[a-zA-Z0-9_+-]{1,16}");
                String label = label(g);
                yield g.shared("email", atom + " ( \".\" " + atom + " )? \"@\" " + label + " ( \".\" " + label + " )? \".\" "
                        + g.shared("tld", TLDS));
            }
            case "uri" -> {
                String label = label(g);
                String segment = g.shared("uri-segment", "\"/\" [a-zA-Z0-9._~-]{0,16}");
                yield g.shared("uri", g.shared("uri-scheme", "[a-zA-Z] [a-zA-Z0-9+.-]{0,8}") + " \"://\" " + label
                        + " ( \".\" " + label + " )* " + segment + "*");
            }
            case "hostname" -> g.shared("hostname", label(g) + " ( \".\" " + label(g) + " )*");
            case "ipv4" -> {
                String octet = g.shared("octet", NumberRules.uintRange(0, 255));
                yield g.shared("ipv4", octet + " \".\" " + octet + " \".\" " + octet + " \".\" " + octet);
            }
            default -> throw new IllegalStateException(format);
        };
    }

    private static String label(Gbnf g) {
        return g.shared("label", "[a-zA-Z0-9]{1,20}");
    }

    private static String date(Gbnf g) {
        String d28 = "\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8]";
        String d30 = g.shared("day30", d28 + " | \"29\" | \"30\"");
        String d31 = g.shared("day31", d30 + " | \"31\"");
        return g.shared("date", g.shared("year", "[0-9]{4}") + " \"-\" ( ( \"0\" [13578] | \"1\" [02] ) \"-\" " + d31
                + " | ( \"0\" [469] | \"11\" ) \"-\" " + d30 + " | \"02-\" ( " + d28 + " ) )");
    }

    private static String time(Gbnf g) {
        String hour = g.shared("hour", "[01] [0-9] | \"2\" [0-3]");
        String minute = g.shared("minute", "[0-5] [0-9]");
        return g.shared("time", hour + " \":\" " + minute + " \":\" " + minute + " " + g.shared("second-fraction", "\".\" [0-9]{1,6}")
                + "? ( \"Z\" | [-+] " + g.shared("offset", "( \"0\" [0-9] | \"1\" [0-7] ) \":\" " + minute + " | \"18:00\"") + " )");
    }
}
