package dev.sluice.engine.sampling;

/** A token and its log-probability under the model's distribution. */
public record TokenLogprob(int token, float logprob) {
}
