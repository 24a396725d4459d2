package dev.sluice.engine.sampling;

import java.util.List;

/**
 * The token a {@link Sampler} chose.
 *
 * @param token        the token id
 * @param logprob      its log-probability under the model's raw distribution (see {@link Sampler}),
 *                     or NaN when the parameters did not ask for logprobs; -infinity where the model
 *                     gave the token a logit of -infinity
 * @param topLogprobs  the {@link SamplingParams#topLogprobs()} most likely tokens under the same
 *                     distribution, most likely first (the lower id first on ties); empty unless asked for
 */
public record SampledToken(int token, float logprob, List<TokenLogprob> topLogprobs) {

    public SampledToken {
        topLogprobs = List.copyOf(topLogprobs);
    }

    static SampledToken withoutLogprobs(int token) {
        return new SampledToken(token, Float.NaN, List.of());
    }
}
