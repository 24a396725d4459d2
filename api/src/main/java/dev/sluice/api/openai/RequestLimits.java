package dev.sluice.api.openai;

import dev.sluice.api.http.ApiException;
import dev.sluice.engine.text.TokenTexts;

/**
 * The server's limits on what one request may ask for, from its options.
 *
 * @param priorityEnabled   {@code --enable-request-priority}: whether {@code priority} may be non-zero
 * @param maxResponseTokens {@code --max-response-tokens}: the most tokens one request may have
 *                          generated or reported, counted as choices × max_tokens × (1 + top_logprobs)
 */
public record RequestLimits(boolean priorityEnabled, long maxResponseTokens) {

    /** Limits that allow everything (for parsing outside a server). */
    public static final RequestLimits NONE = new RequestLimits(true, Long.MAX_VALUE);

    /**
     * 400 {@code context_length_exceeded} for a text too long to fit the context whatever its
     * tokenization, before it is tokenized: a 15 MB prompt costs seconds of CPU to tokenize only to
     * be refused after.
     */
    public static void requireFits(TokenTexts texts, String text, int maxModelLength, String param) {
        long atLeast = texts.minTokens(text);
        if (atLeast > maxModelLength) {
            throw ApiException.invalid(param, "This model's maximum context length is " + maxModelLength
                    + " tokens. However, your " + param + " has " + text.length() + " characters, which is at least "
                    + atLeast + " tokens. Please reduce the length of the " + param + ".", "context_length_exceeded");
        }
    }

    /** The most tokens a single-prompt request's choices may each generate within {@link #maxResponseTokens}. */
    int defaultMaxTokens(SamplingOptions o) {
        long perToken = (long) o.n() * (1 + o.topLogprobs());
        return (int) Math.min(Integer.MAX_VALUE, maxResponseTokens / perToken);
    }

    /** 400 when the answer asked for is larger than {@link #maxResponseTokens}. */
    void checkResponseSize(int prompts, SamplingOptions o, int maxTokens) {
        long choices = (long) prompts * o.n();
        long perToken = 1L + o.topLogprobs();
        // Computed in steps that cannot overflow: every factor is at most 2^31.
        double size = (double) choices * maxTokens * perToken;
        if (size > maxResponseTokens) {
            throw ApiException.invalid("max_tokens", String.format("This request asks for up to %.0f tokens of output "
                    + "(%d choices x %d max_tokens x %d for each token and its %d top_logprobs), more than this server's "
                    + "limit of %d per request. Reduce n, max_tokens or top_logprobs.", size, choices, maxTokens, perToken,
                    o.topLogprobs(), maxResponseTokens), "response_too_large");
        }
    }

    /** 400 when a prompt's logprobs (one per token, each with its alternatives) exceed {@link #maxResponseTokens}. */
    void checkPromptLogprobsSize(int promptTokens, int top) {
        double size = (double) promptTokens * (1 + top);
        if (size > maxResponseTokens) {
            throw ApiException.invalid("logprobs", String.format("Prompt logprobs for %d prompt tokens with %d "
                    + "alternatives each are %.0f entries, more than this server's limit of %d per request. Shorten the "
                    + "prompt or ask for fewer alternatives.", promptTokens, top, size, maxResponseTokens), "response_too_large");
        }
    }
}
