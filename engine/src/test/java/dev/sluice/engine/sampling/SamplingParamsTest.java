package dev.sluice.engine.sampling;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplingParamsTest {

    @Test
    void defaultsAreOpenAisAndGreedyIsGreedy() {
        SamplingParams defaults = SamplingParams.DEFAULTS;
        assertEquals(1f, defaults.temperature());
        assertEquals(1f, defaults.topP());
        assertEquals(1f, defaults.repetitionPenalty());
        assertTrue(defaults.seed().isEmpty());
        assertFalse(defaults.isGreedy());
        assertTrue(SamplingParams.GREEDY.isGreedy());
        assertTrue(SamplingParams.builder().topK(1).build().isGreedy(), "top_k 1 leaves only the most likely token");
        assertTrue(SamplingParams.builder().temperature(1e-6f).build().isGreedy(), "vLLM treats temperature < 1e-5 as 0");
    }

    @Test
    void acceptsTheBoundariesOfEveryRange() {
        assertDoesNotThrow(() -> SamplingParams.builder()
                .temperature(0f).topP(1f).topK(-1).minP(1f).repetitionPenalty(0.01f)
                .frequencyPenalty(-2f).presencePenalty(2f).seed(-1L)
                .logitBias(Map.of(0, -100f, 5, 100f)).grammar("root ::= \"a\"").logprobs(20).build());
        assertDoesNotThrow(() -> SamplingParams.builder().topK(0).minP(0f).frequencyPenalty(2f).presencePenalty(-2f).build());
    }

    @Test
    void rejectsValuesOutsideTheirRangeNamingTheField() {
        assertRejected("temperature", b -> b.temperature(-0.1f));
        assertRejected("temperature", b -> b.temperature(Float.NaN));
        assertRejected("temperature", b -> b.temperature(Float.POSITIVE_INFINITY));
        assertRejected("top_p", b -> b.topP(0f));
        assertRejected("top_p", b -> b.topP(1.01f));
        assertRejected("top_k", b -> b.topK(-2));
        assertRejected("min_p", b -> b.minP(-0.01f));
        assertRejected("min_p", b -> b.minP(1.5f));
        assertRejected("repetition_penalty", b -> b.repetitionPenalty(0f));
        assertRejected("frequency_penalty", b -> b.frequencyPenalty(2.5f));
        assertRejected("presence_penalty", b -> b.presencePenalty(-2.01f));
        assertRejected("logit_bias", b -> b.logitBias(Map.of(3, 100.5f)));
        assertRejected("logit_bias", b -> b.logitBias(Map.of(3, Float.NaN)));
        assertRejected("logit_bias", b -> b.logitBias(Map.of(-1, 1f)));
        assertRejected("grammar", b -> b.grammar("  "));
        assertRejected("grammar", b -> b.grammarTriggers(java.util.List.of("<tool_call>")));
        assertRejected("top_logprobs", b -> b.logprobs(21));
        assertRejected("top_logprobs", b -> b.logprobs(-1));
    }

    @Test
    void topLogprobsNeedLogprobs() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SamplingParams(
                1f, 1f, 0, 0f, 1f, 0f, 0f, java.util.OptionalLong.empty(), Map.of(), java.util.Optional.empty(), java.util.List.of(), false, 3));
        assertTrue(e.getMessage().contains("logprobs"), e.getMessage());
    }

    @Test
    void logitBiasIsCopied() {
        Map<Integer, Float> bias = new HashMap<>(Map.of(7, 5f));
        SamplingParams params = SamplingParams.builder().logitBias(bias).build();
        bias.put(8, 1f);
        assertEquals(Map.of(7, 5f), params.logitBias());
        assertThrows(UnsupportedOperationException.class, () -> params.logitBias().put(9, 1f));
    }

    @Test
    void toBuilderKeepsEveryField() {
        SamplingParams params = SamplingParams.builder().temperature(0.3f).topP(0.8f).topK(40).minP(0.05f)
                .repetitionPenalty(1.1f).frequencyPenalty(0.5f).presencePenalty(-0.5f).seed(9)
                .logitBias(Map.of(1, 2f)).grammar("root ::= \"x\"").logprobs(4).build();
        assertEquals(params, params.toBuilder().build());
    }

    private static void assertRejected(String field, UnaryOperator<SamplingParams.Builder> change) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> change.apply(SamplingParams.builder()).build());
        assertTrue(e.getMessage().startsWith(field), "message names " + field + ": " + e.getMessage());
    }
}
