package dev.sluice.api.embeddings;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.openai.Json;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * A validated {@code POST /v1/embeddings} body: {@code input} as a string, an array of strings,
 * an array of token ids, or an array of arrays of token ids (OpenAI's four forms);
 * {@code encoding_format} {@code float} or {@code base64}; {@code dimensions}; {@code model} and
 * {@code user} (routing only).
 *
 * @param inputs     the inputs in order: each is text or token ids (exactly one set)
 * @param base64     whether vectors go out as base64 of little-endian float32
 * @param dimensions the length asked for, or empty for the model's own
 */
public record EmbeddingRequest(List<Input> inputs, boolean base64, OptionalInt dimensions) {

    /** One input: text to tokenize, or token ids. */
    public record Input(String text, int[] tokens) {
    }

    /** Parses {@code json}; {@code maxInputs} bounds the array, token ids are checked against {@code vocabSize}. */
    public static EmbeddingRequest parse(Json json, int vocabSize, int maxInputs) {
        List<Input> inputs = inputs(json.get("input"), vocabSize, maxInputs);
        String format = json.string("encoding_format").orElse("float");
        if (!format.equals("float") && !format.equals("base64")) {
            throw ApiException.invalid("encoding_format", "encoding_format must be 'float' or 'base64', not "
                    + Json.quote(format) + ".");
        }
        OptionalInt dimensions = json.integer("dimensions", 1, Integer.MAX_VALUE);
        json.string("user"); // type-checked; it only routes
        return new EmbeddingRequest(inputs, format.equals("base64"), dimensions);
    }

    private static List<Input> inputs(JsonNode node, int vocabSize, int maxInputs) {
        if (node == null || node.isNull()) {
            throw ApiException.invalid("input", "Missing required parameter: 'input'.");
        }
        if (node.isTextual()) {
            return List.of(text(node, "input"));
        }
        if (!node.isArray()) {
            throw Json.wrongType("input", "a string, an array of strings, an array of token ids or an array of those");
        }
        if (node.isEmpty()) {
            throw ApiException.invalid("input", "input must not be an empty array.");
        }
        if (node.get(0).isIntegralNumber()) {
            return List.of(new Input(null, tokens(node, "input", vocabSize)));
        }
        if (node.size() > maxInputs) {
            throw ApiException.invalid("input", "input has " + node.size() + " items; at most " + maxInputs
                    + " inputs per request.");
        }
        // A list of inputs is all strings or all token arrays, as OpenAI's schema has it.
        boolean strings = node.get(0).isTextual();
        List<Input> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            String where = "input[" + i + "]";
            if (strings && item.isTextual()) {
                out.add(text(item, where));
            } else if (!strings && item.isArray()) {
                out.add(new Input(null, tokens(item, where, vocabSize)));
            } else {
                throw Json.wrongType("input", "a string, an array of strings, an array of token ids or an array of those");
            }
        }
        return out;
    }

    private static Input text(JsonNode node, String where) {
        if (node.textValue().isEmpty()) {
            throw ApiException.invalid("input", where + " is an empty string; every input needs at least one token.");
        }
        return new Input(node.textValue(), null);
    }

    private static int[] tokens(JsonNode array, String where, int vocabSize) {
        if (array.isEmpty()) {
            throw ApiException.invalid("input", where + " is an empty array of tokens.");
        }
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = array.get(i);
            if (!t.isIntegralNumber() || t.longValue() < 0 || t.longValue() >= vocabSize) {
                throw ApiException.invalid("input", "Token id " + t.asText() + " in " + where
                        + " is out of vocabulary (0 to " + (vocabSize - 1) + ").");
            }
            ids[i] = t.intValue();
        }
        return ids;
    }
}
