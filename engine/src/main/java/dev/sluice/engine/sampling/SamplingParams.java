package dev.sluice.engine.sampling;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * How to pick each token of one sequence, with the meanings and ranges of the OpenAI API and
 * vLLM. The constructor validates every field and throws {@link IllegalArgumentException} naming
 * the field and its allowed range. See {@link Sampler} for the order in which they apply.
 *
 * @param temperature       divides the logits; {@code 0} (below {@code 1e-5}, as in vLLM) means greedy; {@code >= 0}
 * @param topP              nucleus sampling: keep the smallest set of most likely tokens whose
 *                          probabilities sum to at least this; {@code (0, 1]}, 1 = off
 * @param topK              keep this many most likely tokens; {@code >= 1}, or 0 or -1 = off
 * @param minP              keep tokens at least this fraction as likely as the most likely one;
 *                          {@code [0, 1]}, 0 = off
 * @param repetitionPenalty HF-style: divides positive and multiplies negative logits of tokens in
 *                          the prompt or the output so far; {@code > 0}, 1 = off
 * @param frequencyPenalty  subtracted once per occurrence of a token in the output so far; {@code [-2, 2]}
 * @param presencePenalty   subtracted once from every token present in the output so far; {@code [-2, 2]}
 * @param seed              makes sampling reproducible; empty = a fresh random seed
 * @param logitBias         token id to a value in {@code [-100, 100]} added to its logit
 *                          (the ids are checked against the vocabulary when a {@link Sampler} is built)
 * @param grammar           a GBNF grammar with a rule {@code root} that the output must match
 * @param grammarTriggers   when not empty, the grammar is lazy: the output is free until it
 *                          contains one of these strings, and from that string on (the string
 *                          included) must match the grammar ({@link LazyGrammar})
 * @param logprobs          report the chosen token's log-probability
 * @param topLogprobs       also report this many most likely tokens with theirs; {@code [0, 20]},
 *                          above 0 only with {@code logprobs}
 */
public record SamplingParams(
        float temperature,
        float topP,
        int topK,
        float minP,
        float repetitionPenalty,
        float frequencyPenalty,
        float presencePenalty,
        OptionalLong seed,
        Map<Integer, Float> logitBias,
        Optional<String> grammar,
        List<String> grammarTriggers,
        boolean logprobs,
        int topLogprobs) {

    /** The most tokens {@link #topLogprobs} may ask for, as in the OpenAI API. */
    public static final int MAX_TOP_LOGPROBS = 20;

    /** Below this temperature sampling is greedy (vLLM's threshold). */
    static final float GREEDY_TEMPERATURE = 1e-5f;

    /** The OpenAI defaults: temperature 1, nothing truncated or penalized. */
    public static final SamplingParams DEFAULTS = builder().build();

    /** Always the most likely token (the lowest id on ties). */
    public static final SamplingParams GREEDY = builder().temperature(0f).build();

    public SamplingParams {
        Objects.requireNonNull(seed, "seed");
        Objects.requireNonNull(logitBias, "logit_bias");
        Objects.requireNonNull(grammar, "grammar");
        grammarTriggers = List.copyOf(grammarTriggers);
        if (!grammarTriggers.isEmpty() && (grammar.isEmpty() || grammarTriggers.stream().anyMatch(String::isEmpty))) {
            throw new IllegalArgumentException("grammar triggers need a grammar, and none may be empty");
        }
        require(temperature >= 0f && Float.isFinite(temperature), "temperature", temperature, "must be finite and >= 0");
        require(topP > 0f && topP <= 1f, "top_p", topP, "must be in (0, 1]");
        require(topK >= -1, "top_k", topK, "must be >= 1, or 0 or -1 to disable it");
        require(minP >= 0f && minP <= 1f, "min_p", minP, "must be in [0, 1]");
        require(repetitionPenalty > 0f && Float.isFinite(repetitionPenalty), "repetition_penalty",
                repetitionPenalty, "must be finite and > 0");
        require(frequencyPenalty >= -2f && frequencyPenalty <= 2f, "frequency_penalty", frequencyPenalty,
                "must be in [-2, 2]");
        require(presencePenalty >= -2f && presencePenalty <= 2f, "presence_penalty", presencePenalty,
                "must be in [-2, 2]");
        logitBias.forEach((token, bias) -> {
            if (token == null || token < 0) {
                throw new IllegalArgumentException("logit_bias token id " + token + " must be >= 0");
            }
            if (bias == null || !(bias >= -100f && bias <= 100f)) {
                throw new IllegalArgumentException("logit_bias for token " + token + " is " + bias
                        + "; must be in [-100, 100]");
            }
        });
        logitBias = Map.copyOf(logitBias);
        if (grammar.isPresent() && grammar.get().isBlank()) {
            throw new IllegalArgumentException("grammar is empty; leave it out for unconstrained output");
        }
        require(topLogprobs >= 0 && topLogprobs <= MAX_TOP_LOGPROBS, "top_logprobs", topLogprobs,
                "must be in [0, " + MAX_TOP_LOGPROBS + "]");
        if (topLogprobs > 0 && !logprobs) {
            throw new IllegalArgumentException("top_logprobs is " + topLogprobs + "; it needs logprobs = true");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these parameters. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** True when every token is the most likely one: temperature 0 or top-k 1. */
    boolean isGreedy() {
        return temperature < GREEDY_TEMPERATURE || topK == 1;
    }

    /** True when top-k, top-p or min-p removes tokens before the random draw. */
    boolean truncates() {
        return topK > 1 || topP < 1f || minP > 0f;
    }

    private static void require(boolean valid, String field, Object value, String rule) {
        if (!valid) {
            throw new IllegalArgumentException(field + " is " + value + "; it " + rule);
        }
    }

    /** Mutable, unvalidated until {@link #build()}; starts from the OpenAI defaults. */
    public static final class Builder {
        private float temperature = 1f;
        private float topP = 1f;
        private int topK = 0;
        private float minP = 0f;
        private float repetitionPenalty = 1f;
        private float frequencyPenalty = 0f;
        private float presencePenalty = 0f;
        private OptionalLong seed = OptionalLong.empty();
        private Map<Integer, Float> logitBias = Map.of();
        private Optional<String> grammar = Optional.empty();
        private List<String> grammarTriggers = List.of();
        private boolean logprobs;
        private int topLogprobs;

        private Builder() {
        }

        private Builder(SamplingParams p) {
            temperature = p.temperature;
            topP = p.topP;
            topK = p.topK;
            minP = p.minP;
            repetitionPenalty = p.repetitionPenalty;
            frequencyPenalty = p.frequencyPenalty;
            presencePenalty = p.presencePenalty;
            seed = p.seed;
            logitBias = p.logitBias;
            grammar = p.grammar;
            grammarTriggers = p.grammarTriggers;
            logprobs = p.logprobs;
            topLogprobs = p.topLogprobs;
        }

        public Builder temperature(float value) {
            temperature = value;
            return this;
        }

        public Builder topP(float value) {
            topP = value;
            return this;
        }

        public Builder topK(int value) {
            topK = value;
            return this;
        }

        public Builder minP(float value) {
            minP = value;
            return this;
        }

        public Builder repetitionPenalty(float value) {
            repetitionPenalty = value;
            return this;
        }

        public Builder frequencyPenalty(float value) {
            frequencyPenalty = value;
            return this;
        }

        public Builder presencePenalty(float value) {
            presencePenalty = value;
            return this;
        }

        public Builder seed(long value) {
            seed = OptionalLong.of(value);
            return this;
        }

        public Builder logitBias(Map<Integer, Float> value) {
            logitBias = value;
            return this;
        }

        public Builder grammar(String gbnf) {
            grammar = Optional.of(gbnf);
            return this;
        }

        /** Makes the grammar lazy: it applies from the first of these strings in the output on. */
        public Builder grammarTriggers(List<String> triggers) {
            grammarTriggers = triggers;
            return this;
        }

        /** Asks for the chosen token's log-probability and {@code top} alternatives (0 for none). */
        public Builder logprobs(int top) {
            logprobs = true;
            topLogprobs = top;
            return this;
        }

        public SamplingParams build() {
            return new SamplingParams(temperature, topP, topK, minP, repetitionPenalty, frequencyPenalty,
                    presencePenalty, seed, logitBias, grammar, grammarTriggers, logprobs, topLogprobs);
        }
    }
}
