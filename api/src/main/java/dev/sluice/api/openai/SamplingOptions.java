package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.structured.ResponseFormat;
import dev.sluice.engine.sampling.SamplingParams;

import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The sampling and stopping fields chat and text completions share, validated with OpenAI's
 * ranges and defaults, plus the vLLM / llama-server extensions clients rely on ({@code top_k},
 * {@code min_p}, {@code repetition_penalty}, {@code ignore_eos}, {@code stop_token_ids},
 * {@code priority}, {@code return_tokens_as_token_ids}).
 *
 * @param topLogprobs  alternatives to report per token (0 for none); {@code logprobs} must be on
 * @param tokenIdNames vLLM's {@code return_tokens_as_token_ids}: logprobs name tokens
 *                     {@code "token_id:<id>"} instead of by their text, which is lossy for tokens
 *                     that are part of a UTF-8 character
 */
public record SamplingOptions(SamplingParams sampling, List<String> stop, int[] stopTokenIds, boolean ignoreEos,
                              int n, int priority, boolean logprobs, int topLogprobs, boolean tokenIdNames) {

    /** OpenAI accepts at most 4 stop sequences; vLLM more. Bound them to keep matching cheap. */
    static final int MAX_STOP_STRINGS = 16;
    /** Longest stop string, in characters (UTF-16 units). */
    static final int MAX_STOP_CHARS = 1024;
    static final int MAX_STOP_TOKEN_IDS = 1024;
    /** OpenAI's limit on {@code logit_bias} entries. */
    static final int MAX_LOGIT_BIAS = 300;
    static final int MAX_N = 128;

    static SamplingOptions parse(Json json, int vocabSize, boolean logprobs, int topLogprobs, RequestLimits limits) {
        SamplingParams.Builder b = SamplingParams.builder();
        float temperature = (float) json.number("temperature", 0, 2).orElse(1.0);
        double topP = json.number("top_p", 0, 1).orElse(1.0);
        // OpenAI's range for top_p includes 0: only the most likely token is left, which is greedy.
        b.temperature(topP == 0 ? 0 : temperature);
        b.topP((float) (topP == 0 ? 1.0 : topP));
        int topK = json.integer("top_k", -1, Integer.MAX_VALUE).orElse(-1);
        b.topK(topK <= 0 ? 0 : topK);
        b.minP((float) json.number("min_p", 0, 1).orElse(0.0));
        b.presencePenalty((float) json.number("presence_penalty", -2, 2).orElse(0.0));
        b.frequencyPenalty((float) json.number("frequency_penalty", -2, 2).orElse(0.0));
        double repetition = json.number("repetition_penalty", 0, 10).orElse(1.0);
        if (repetition == 0) {
            throw ApiException.invalid("repetition_penalty", "repetition_penalty must be greater than 0, got 0.");
        }
        b.repetitionPenalty((float) repetition);
        json.longValue("seed", Long.MIN_VALUE, Long.MAX_VALUE).ifPresent(b::seed);
        Map<Integer, Float> bias = logitBias(json, vocabSize);
        if (!bias.isEmpty()) {
            b.logitBias(bias);
        }
        if (logprobs) {
            b.logprobs(topLogprobs);
        }
        json.string("user"); // accepted and type-checked; not used
        ResponseFormat.grammar(json).ifPresent(b::grammar); // response_format and the vLLM / llama-server constraints

        List<String> stop = json.stringOrStrings("stop", MAX_STOP_STRINGS);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw ApiException.invalid("stop", "stop strings must not be empty.");
            }
            if (s.length() > MAX_STOP_CHARS) {
                throw ApiException.invalid("stop", "stop strings may be at most " + MAX_STOP_CHARS
                        + " characters long, got one of " + s.length() + ".");
            }
        }
        int[] stopTokenIds = tokenIds(json, "stop_token_ids", vocabSize, MAX_STOP_TOKEN_IDS);
        boolean ignoreEos = json.bool("ignore_eos").orElse(false);
        int n = json.integer("n", 1, MAX_N).orElse(1);
        int priority = json.integer("priority", Integer.MIN_VALUE, Integer.MAX_VALUE).orElse(0);
        if (priority != 0 && !limits.priorityEnabled()) {
            throw ApiException.invalid("priority", "priority is not enabled on this server (start it with "
                    + "--enable-request-priority to let requests choose their priority).");
        }
        boolean tokenIdNames = json.bool("return_tokens_as_token_ids").orElse(false);
        SamplingParams params;
        try {
            params = b.build();
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(null, e.getMessage());
        }
        return new SamplingOptions(params, stop, stopTokenIds, ignoreEos, n, priority, logprobs, topLogprobs, tokenIdNames);
    }

    private static Map<Integer, Float> logitBias(Json json, int vocabSize) {
        JsonNode node = json.get("logit_bias");
        if (node == null) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw Json.wrongType("logit_bias", "an object mapping token ids to biases");
        }
        if (node.size() > MAX_LOGIT_BIAS) {
            throw ApiException.invalid("logit_bias", "logit_bias may have at most " + MAX_LOGIT_BIAS + " entries, got "
                    + node.size() + ".");
        }
        Map<Integer, Float> bias = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int token;
            try {
                token = Integer.parseInt(e.getKey().strip());
            } catch (NumberFormatException ex) {
                throw ApiException.invalid("logit_bias", "Invalid key in logit_bias: '" + Json.quote(e.getKey()) + "' is not a token id.");
            }
            if (token < 0 || token >= vocabSize) {
                throw ApiException.invalid("logit_bias", "Token id " + token + " in logit_bias is out of vocabulary (0 to "
                        + (vocabSize - 1) + ").");
            }
            if (!e.getValue().isNumber()) {
                throw Json.wrongType("logit_bias", "numbers as bias values");
            }
            double v = e.getValue().doubleValue();
            if (v < -100 || v > 100) {
                throw ApiException.invalid("logit_bias", "logit_bias values must be between -100 and 100, got " + v + ".");
            }
            bias.put(token, (float) v);
        }
        return bias;
    }

    static int[] tokenIds(Json json, String name, int vocabSize, int maxItems) {
        JsonNode node = json.get(name);
        if (node == null) {
            return new int[0];
        }
        if (!node.isArray()) {
            throw Json.wrongType(name, "an array of token ids");
        }
        if (node.size() > maxItems) {
            throw ApiException.invalid(name, name + " may have at most " + maxItems + " items, got " + node.size() + ".");
        }
        int[] ids = new int[node.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode item = node.get(i);
            if (!item.isIntegralNumber() || item.longValue() < 0 || item.longValue() >= vocabSize) {
                throw ApiException.invalid(name, name + " must contain token ids between 0 and " + (vocabSize - 1) + ".");
            }
            ids[i] = item.intValue();
        }
        return ids;
    }
}
