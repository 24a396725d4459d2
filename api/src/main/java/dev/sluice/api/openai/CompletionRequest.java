package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.http.ApiException;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * A validated {@code POST /v1/completions} body. A prompt is text or token ids; several prompts
 * give {@code len(prompts) × n} choices, prompt-major.
 */
public record CompletionRequest(String model, List<Prompt> prompts, int maxTokens, SamplingOptions options,
                                boolean echo, boolean stream, boolean includeUsage, PromptScoring promptScoring) {

    /** OpenAI's default for completions. */
    static final int DEFAULT_MAX_TOKENS = 16;

    /** Exactly one of text and tokens is set. */
    public record Prompt(String text, int[] tokens) {
    }

    public static CompletionRequest parse(Json json, int vocabSize, RequestLimits limits) {
        String model = json.string("model").orElse(null);
        List<Prompt> prompts = prompts(json, vocabSize);
        json.string("suffix"); // type-checked here; laid out by FillInTheMiddle
        OptionalInt logprobs = json.integer("logprobs", 0, 20);
        boolean echo = json.bool("echo").orElse(false);
        // vLLM's extension: every prompt token's logprob with this many alternatives (its -1, the whole
        // vocabulary, is refused: an answer that size is never what a client wants).
        OptionalInt promptLogprobs = json.integer("prompt_logprobs", 0, 20);
        SamplingOptions options = SamplingOptions.parse(json, vocabSize, logprobs.isPresent(), logprobs.orElse(0), limits);
        OptionalInt bestOf = json.integer("best_of", 1, SamplingOptions.MAX_N);
        if (bestOf.isPresent() && bestOf.getAsInt() != options.n()) {
            throw ApiException.invalid("best_of", "best_of different from n is not supported.");
        }
        if (prompts.size() * options.n() > SamplingOptions.MAX_N) {
            throw ApiException.invalid("n", "At most " + SamplingOptions.MAX_N + " choices per request (prompts × n).");
        }
        boolean stream = json.bool("stream").orElse(false);
        if (stream && promptLogprobs.isPresent()) {
            throw ApiException.invalid("prompt_logprobs", "prompt_logprobs is not available with stream: true (as in vLLM).");
        }
        // max_tokens 0 runs the prompt only: its echo and prompt logprobs (lm-evaluation-harness's loglikelihood).
        int maxTokens = json.integer("max_tokens", 0, Integer.MAX_VALUE).orElse(DEFAULT_MAX_TOKENS);
        if (maxTokens == 0 && options.n() > 1) {
            throw ApiException.invalid("n", "With max_tokens 0 nothing is generated: n must be 1.");
        }
        PromptScoring scoring = new PromptScoring(echo && logprobs.isPresent() ? logprobs.getAsInt() : -1,
                promptLogprobs.orElse(-1));
        return new CompletionRequest(model, prompts, maxTokens, options, echo, stream, ChatRequest.includeUsage(json, stream),
                scoring);
    }

    private static List<Prompt> prompts(Json json, int vocabSize) {
        JsonNode node = json.get("prompt");
        if (node == null) {
            throw ApiException.invalid("prompt", "Missing required parameter: 'prompt'.");
        }
        if (node.isTextual()) {
            return List.of(new Prompt(node.textValue(), null));
        }
        if (!node.isArray() || node.isEmpty()) {
            throw Json.wrongType("prompt", "a string, an array of strings, an array of token ids or an array of those");
        }
        JsonNode first = node.get(0);
        List<Prompt> out = new ArrayList<>();
        if (first.isIntegralNumber()) {
            out.add(new Prompt(null, tokens(node, "prompt", vocabSize)));
            return out;
        }
        // A list of prompts is all strings or all token arrays, as OpenAI's schema has it.
        boolean strings = first.isTextual();
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            if (strings && item.isTextual()) {
                out.add(new Prompt(item.textValue(), null));
            } else if (!strings && item.isArray() && !item.isEmpty()) {
                out.add(new Prompt(null, tokens(item, "prompt[" + i + "]", vocabSize)));
            } else {
                throw Json.wrongType("prompt", "a string, an array of strings, an array of token ids or an array of those");
            }
        }
        return out;
    }

    private static int[] tokens(JsonNode array, String where, int vocabSize) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = array.get(i);
            if (!t.isIntegralNumber() || t.longValue() < 0 || t.longValue() >= vocabSize) {
                throw ApiException.invalid("prompt", "Token id " + t.asText() + " in " + where
                        + " is out of vocabulary (0 to " + (vocabSize - 1) + ").");
            }
            ids[i] = t.intValue();
        }
        return ids;
    }
}
