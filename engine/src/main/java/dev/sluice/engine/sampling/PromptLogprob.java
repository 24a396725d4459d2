package dev.sluice.engine.sampling;

import java.util.List;

/**
 * A prompt token scored by the distribution the model gave it from the tokens before it.
 *
 * @param token   the prompt token
 * @param logprob its log-probability (the log-softmax of the raw logits row)
 * @param rank    1 + how many tokens the row rates strictly more likely (vLLM's {@code rank})
 * @param top     the most likely tokens of that row with theirs, most likely first (the lower id
 *                first on ties); as many as asked for
 */
public record PromptLogprob(int token, float logprob, int rank, List<TokenLogprob> top) {

    public PromptLogprob {
        top = List.copyOf(top);
    }
}
