package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * Integers and numbers with {@code minimum}, {@code maximum} and their exclusive forms, as
 * digit-range rules. Integers take any bounds (rounded inward); numbers take integral bounds
 * (a fraction in a bound cannot be compared digit by digit here, so it is refused). Generated
 * magnitudes have at most 16 integral digits, as {@link JsonRules#integer} does.
 */
final class NumberRules {

    /** The largest magnitude generated: 16 digits. */
    static final long LIMIT = 9_999_999_999_999_999L;

    private NumberRules() {
    }

    /** Bounds read from a schema; {@code null} where absent. */
    private record Bounds(BigDecimal lo, boolean loIncl, BigDecimal hi, boolean hiIncl) {
    }

    static String integer(Gbnf g, JsonNode s, String path) {
        checkMultipleOf(s, path, true);
        Bounds b = bounds(s, path);
        if (b.lo == null && b.hi == null) {
            return JsonRules.integer(g);
        }
        checkRange(s, b, path);
        long lo = b.lo == null ? -LIMIT : clamp(b.loIncl ? ceil(b.lo) : floor(b.lo).add(BigDecimal.ONE));
        long hi = b.hi == null ? LIMIT : clamp(b.hiIncl ? floor(b.hi) : ceil(b.hi).subtract(BigDecimal.ONE));
        if (lo > hi) {
            throw new InvalidSchemaException(path, "No integer lies within minimum/maximum at '" + path + "'.");
        }
        List<String> options = new ArrayList<>();
        if (lo < 0) {
            options.add("\"-\" ( " + uintRange(-Math.min(hi, -1), -lo) + " )");
        }
        if (hi >= 0) {
            options.add(uintRange(Math.max(lo, 0), hi));
        }
        return g.rule("int", String.join(" | ", options));
    }

    static String number(Gbnf g, JsonNode s, String path) {
        checkMultipleOf(s, path, false);
        Bounds b = bounds(s, path);
        if (b.lo == null && b.hi == null) {
            return JsonRules.number(g);
        }
        for (BigDecimal bound : new BigDecimal[]{b.lo, b.hi}) {
            if (bound != null && bound.stripTrailingZeros().scale() > 0) {
                String keyword = bound == b.lo ? (s.has("minimum") ? "minimum" : "exclusiveMinimum")
                        : (s.has("maximum") ? "maximum" : "exclusiveMaximum");
                throw new UnsupportedSchemaException(keyword, path, "'" + keyword + "' at '" + path
                        + "' is not a whole number; bounds of type number can only be enforced when they are integral.");
            }
        }
        checkRange(s, b, path);
        long lo = b.lo == null ? Long.MIN_VALUE : clamp(b.lo);
        long hi = b.hi == null ? Long.MAX_VALUE : clamp(b.hi);
        List<String> options = new ArrayList<>();
        if (b.hi == null || hi >= 0) {
            boolean fromZero = b.lo == null || lo < 0;
            options.addAll(magnitude(g, fromZero ? 0 : lo, fromZero || b.loIncl, b.hi == null ? -1 : hi, b.hiIncl));
        }
        if (b.lo == null || lo < 0) {
            long from = b.hi != null && hi < 0 ? -hi : 0;
            boolean fromIncl = b.hi != null && hi < 0 && b.hiIncl;
            List<String> negative = magnitude(g, from, fromIncl, b.lo == null ? -1 : -lo, b.loIncl);
            if (!negative.isEmpty()) {
                options.add("\"-\" ( " + String.join(" | ", negative) + " )");
            }
        }
        if (options.isEmpty()) {
            throw new InvalidSchemaException(path, "No number lies within minimum/maximum at '" + path + "'.");
        }
        return g.rule("num", String.join(" | ", options));
    }

    /** Decimal magnitudes m, no sign, with {@code a <(=) m <(=) b}; {@code b < 0}: unbounded. */
    private static List<String> magnitude(Gbnf g, long a, boolean aIncl, long b, boolean bIncl) {
        String anyFraction = g.shared("fraction", "\".\" [0-9]{1,16}") + "?";
        String nonzeroFraction = g.shared("fraction-nonzero", "\".\" [0-9]{0,15} [1-9]");
        String zeroFraction = g.shared("fraction-zero", "\".\" \"0\"{1,16}") + "?";
        List<String> out = new ArrayList<>();
        if (b >= 0 && a > b) {
            return out;
        }
        if (b >= 0 && a == b) {
            if (aIncl && bIncl) {
                out.add("\"" + a + "\" " + zeroFraction);
            }
            return out;
        }
        out.add("\"" + a + "\" " + (aIncl ? anyFraction : nonzeroFraction));
        long top = b < 0 ? LIMIT : b - 1;
        if (a + 1 <= top) {
            out.add("( " + uintRange(a + 1, top) + " ) " + anyFraction);
        }
        if (b >= 0 && bIncl) {
            out.add("\"" + b + "\" " + zeroFraction);
        }
        return out;
    }

    /** Decimal integers without sign or leading zeros in {@code [a, b]}, {@code 0 <= a <= b <= LIMIT}. */
    static String uintRange(long a, long b) {
        List<String> options = new ArrayList<>();
        int from = digits(a);
        int to = digits(b);
        for (int len = from; len <= to; len++) {
            long lo = Math.max(a, len == 1 ? 0 : pow10(len - 1));
            long hi = Math.min(b, pow10(len) - 1);
            if (b == LIMIT && lo == pow10(len - 1) && len > 1) {
                // every length from here to 16 digits in full: one rule
                options.add("[1-9] [0-9]{" + (len - 1) + "," + (to - 1) + "}");
                break;
            }
            options.add(sameLength(Long.toString(lo), Long.toString(hi)));
        }
        return String.join(" | ", options);
    }

    /** Digit strings of one length between {@code lo} and {@code hi}. */
    private static String sameLength(String lo, String hi) {
        int n = lo.length();
        if (lo.equals(hi)) {
            return "\"" + lo + "\"";
        }
        char a = lo.charAt(0);
        char b = hi.charAt(0);
        if (n == 1) {
            return "[" + a + "-" + b + "]";
        }
        String loRest = lo.substring(1);
        String hiRest = hi.substring(1);
        if (a == b) {
            return "\"" + a + "\" ( " + sameLength(loRest, hiRest) + " )";
        }
        boolean loFull = loRest.chars().allMatch(c -> c == '0');
        boolean hiFull = hiRest.chars().allMatch(c -> c == '9');
        List<String> options = new ArrayList<>();
        if (!loFull) {
            options.add("\"" + a + "\" ( " + sameLength(loRest, "9".repeat(n - 1)) + " )");
        }
        char from = loFull ? a : (char) (a + 1);
        char to = hiFull ? b : (char) (b - 1);
        if (from <= to) {
            options.add((from == to ? "\"" + from + "\"" : "[" + from + "-" + to + "]")
                    + (n - 1 == 1 ? " [0-9]" : " [0-9]{" + (n - 1) + "}"));
        }
        if (!hiFull) {
            options.add("\"" + b + "\" ( " + sameLength("0".repeat(n - 1), hiRest) + " )");
        }
        return String.join(" | ", options);
    }

    private static Bounds bounds(JsonNode s, String path) {
        BigDecimal lo = decimal(s, "minimum", path);
        BigDecimal hi = decimal(s, "maximum", path);
        boolean loIncl = true;
        boolean hiIncl = true;
        JsonNode exMin = s.get("exclusiveMinimum");
        if (exMin != null && exMin.isBoolean()) { // draft 4
            loIncl = !exMin.booleanValue() || lo == null;
        } else if (exMin != null) {
            BigDecimal v = decimal(s, "exclusiveMinimum", path);
            if (lo == null || v.compareTo(lo) >= 0) {
                lo = v;
                loIncl = false;
            }
        }
        JsonNode exMax = s.get("exclusiveMaximum");
        if (exMax != null && exMax.isBoolean()) {
            hiIncl = !exMax.booleanValue() || hi == null;
        } else if (exMax != null) {
            BigDecimal v = decimal(s, "exclusiveMaximum", path);
            if (hi == null || v.compareTo(hi) <= 0) {
                hi = v;
                hiIncl = false;
            }
        }
        return new Bounds(lo, loIncl, hi, hiIncl);
    }

    private static BigDecimal decimal(JsonNode s, String keyword, String path) {
        JsonNode v = s.get(keyword);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw new InvalidSchemaException(path, "'" + keyword + "' at '" + path + "' must be a number.");
        }
        return v.decimalValue();
    }

    private static void checkMultipleOf(JsonNode s, String path, boolean integer) {
        JsonNode m = s.get("multipleOf");
        if (m != null && !(integer && m.isNumber() && m.decimalValue().compareTo(BigDecimal.ONE) == 0)) {
            throw new UnsupportedSchemaException("multipleOf", path, "'multipleOf' at '" + path
                    + "' cannot be enforced by a grammar (only multipleOf 1 on integers is).");
        }
    }

    private static BigDecimal ceil(BigDecimal v) {
        return v.setScale(0, java.math.RoundingMode.CEILING);
    }

    private static BigDecimal floor(BigDecimal v) {
        return v.setScale(0, java.math.RoundingMode.FLOOR);
    }

    /** A bound past what is generated would be broken by clamping: refuse it instead. */
    private static void checkRange(JsonNode s, Bounds b, String path) {
        BigDecimal limit = BigDecimal.valueOf(LIMIT);
        if (b.lo != null && b.lo.compareTo(limit) >= 0 || b.hi != null && b.hi.compareTo(limit.negate()) <= 0) {
            String keyword = b.lo != null && b.lo.compareTo(limit) >= 0
                    ? (s.has("exclusiveMinimum") && !s.get("exclusiveMinimum").isBoolean() ? "exclusiveMinimum" : "minimum")
                    : (s.has("exclusiveMaximum") && !s.get("exclusiveMaximum").isBoolean() ? "exclusiveMaximum" : "maximum");
            throw new UnsupportedSchemaException(keyword, path, "'" + keyword + "' at '" + path
                    + "' leaves only numbers of more than 16 digits, which this server does not generate.");
        }
    }

    private static long clamp(BigDecimal v) {
        BigDecimal limit = BigDecimal.valueOf(LIMIT);
        if (v.compareTo(limit) > 0) {
            return LIMIT;
        }
        if (v.compareTo(limit.negate()) < 0) {
            return -LIMIT;
        }
        return v.setScale(0, java.math.RoundingMode.FLOOR).longValueExact();
    }

    private static int digits(long v) {
        return Long.toString(v).length();
    }

    private static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }
}
