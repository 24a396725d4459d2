package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Typed, validated access to a request's JSON fields. Every problem becomes a 400 naming the
 * field and what was expected, the way OpenAI reports it. Absent and {@code null} are the same.
 */
public final class Json {

    /** Rejects content after the body's JSON value (a second object, a stray bracket) as malformed. */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final ObjectNode body;

    private Json(ObjectNode body) {
        this.body = body;
    }

    /** Parses a request body, which must be a JSON object. */
    public static Json parse(byte[] bytes) {
        JsonNode node;
        try {
            node = MAPPER.readTree(bytes);
        } catch (Exception e) {
            throw ApiException.invalid(null, "We could not parse the JSON body of your request. (HINT: This likely "
                    + "means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)");
        }
        if (!(node instanceof ObjectNode object)) {
            throw ApiException.invalid(null, "The request body must be a JSON object.");
        }
        return new Json(object);
    }

    /** A body already parsed (a batch input line's {@code body}). */
    public static Json of(ObjectNode body) {
        return new Json(body);
    }

    public ObjectNode node() {
        return body;
    }

    public boolean has(String name) {
        JsonNode v = body.get(name);
        return v != null && !v.isNull();
    }

    public JsonNode get(String name) {
        JsonNode v = body.get(name);
        return v == null || v.isNull() ? null : v;
    }

    public Optional<String> string(String name) {
        JsonNode v = get(name);
        if (v == null) {
            return Optional.empty();
        }
        if (!v.isTextual()) {
            throw wrongType(name, "a string");
        }
        return Optional.of(v.textValue());
    }

    public Optional<Boolean> bool(String name) {
        JsonNode v = get(name);
        if (v == null) {
            return Optional.empty();
        }
        if (!v.isBoolean()) {
            throw wrongType(name, "a boolean");
        }
        return Optional.of(v.booleanValue());
    }

    /** An integer in [min, max]; 1.0 counts as an integer, 1.5 does not. */
    public OptionalInt integer(String name, long min, long max) {
        OptionalLong v = longValue(name, min, max);
        return v.isPresent() ? OptionalInt.of((int) v.getAsLong()) : OptionalInt.empty();
    }

    public OptionalLong longValue(String name, long min, long max) {
        JsonNode v = get(name);
        if (v == null) {
            return OptionalLong.empty();
        }
        if (!v.isNumber() || (!v.isIntegralNumber() && v.doubleValue() != Math.rint(v.doubleValue()))) {
            throw wrongType(name, "an integer");
        }
        if (!v.canConvertToLong()) {
            throw outOfRange(name, min, max, v.asText());
        }
        long value = v.longValue();
        if (value < min || value > max) {
            throw outOfRange(name, min, max, Long.toString(value));
        }
        return OptionalLong.of(value);
    }

    /** A number in [min, max]. */
    public OptionalDouble number(String name, double min, double max) {
        JsonNode v = get(name);
        if (v == null) {
            return OptionalDouble.empty();
        }
        if (!v.isNumber()) {
            throw wrongType(name, "a number");
        }
        double value = v.doubleValue();
        if (!(value >= min && value <= max)) {
            throw ApiException.invalid(name, String.format("%s must be between %s and %s, got %s.", name,
                    clean(min), clean(max), v.asText()));
        }
        return OptionalDouble.of(value);
    }

    /** {@code "stop"} style: a string or an array of strings, as a list (empty when absent). */
    public List<String> stringOrStrings(String name, int maxItems) {
        JsonNode v = get(name);
        if (v == null) {
            return List.of();
        }
        if (v.isTextual()) {
            return List.of(v.textValue());
        }
        if (!v.isArray()) {
            throw wrongType(name, "a string or an array of strings");
        }
        if (v.size() > maxItems) {
            throw ApiException.invalid(name, name + " may have at most " + maxItems + " items, got " + v.size() + ".");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode item : v) {
            if (!item.isTextual()) {
                throw wrongType(name, "a string or an array of strings");
            }
            out.add(item.textValue());
        }
        return out;
    }

    /** A client's value as an error message quotes it: at most 64 characters, so nothing big is echoed back. */
    public static String quote(String value) {
        return value.length() <= 64 ? value : value.substring(0, 64) + "…";
    }

    public static ApiException wrongType(String name, String expected) {
        return ApiException.invalid(name, "Invalid type for '" + name + "': expected " + expected + ".");
    }

    private static ApiException outOfRange(String name, long min, long max, String value) {
        String range = max == Long.MAX_VALUE && min != Long.MIN_VALUE ? "at least " + min
                : min == Long.MIN_VALUE && max != Long.MAX_VALUE ? "at most " + max
                : "between " + min + " and " + max;
        String shown = value.length() <= 64 ? value : value.substring(0, 64) + "…";
        return ApiException.invalid(name, name + " must be " + range + ", got " + shown + ".");
    }

    private static String clean(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
