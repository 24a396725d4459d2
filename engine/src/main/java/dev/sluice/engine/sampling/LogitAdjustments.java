package dev.sluice.engine.sampling;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;

/**
 * What one sequence adds to its raw logits before any draw: the logit bias, the repetition
 * penalty over the prompt and output so far, and the frequency and presence penalties over the
 * output, as vLLM applies them (in that order). Keeps the token counts the penalties need.
 */
final class LogitAdjustments {

    private final SamplingParams params;
    private final int[] biasTokens;
    private final float[] biasValues;
    private TokenCounts promptAndOutput;       // null without a repetition penalty
    private TokenCounts output;                // null without frequency and presence penalties

    /** @param bias the logit bias, its token ids already checked against the vocabulary */
    LogitAdjustments(SamplingParams params, Map<Integer, Float> bias) {
        this.params = params;
        this.biasTokens = new int[bias.size()];
        this.biasValues = new float[bias.size()];
        int b = 0;
        for (Map.Entry<Integer, Float> entry : bias.entrySet()) {
            biasTokens[b] = entry.getKey();
            biasValues[b++] = entry.getValue();
        }
        this.promptAndOutput = params.repetitionPenalty() != 1f ? new TokenCounts() : null;
        this.output = params.frequencyPenalty() != 0f || params.presencePenalty() != 0f ? new TokenCounts() : null;
    }

    /** Whether nothing is adjusted: the raw row is the row to draw from. */
    boolean isEmpty() {
        return biasTokens.length == 0 && promptAndOutput == null && output == null;
    }

    /** Counts a prompt token (the repetition penalty covers the prompt too). */
    void countPrompt(int token) {
        if (promptAndOutput != null) {
            promptAndOutput.add(token);
        }
    }

    /** Counts an output token. */
    void countOutput(int token) {
        if (promptAndOutput != null) {
            promptAndOutput.add(token);
        }
        if (output != null) {
            output.add(token);
        }
    }

    /** Takes a copy of {@code other}'s counts (a fork of its sequence, same parameters). */
    void copyCounts(LogitAdjustments other) {
        if (other.promptAndOutput != null) {
            promptAndOutput = other.promptAndOutput.copy();
        }
        if (other.output != null) {
            output = other.output.copy();
        }
    }

    /** Adds the logit bias and applies the penalties to a row of F32 logits, in place. */
    void apply(MemorySegment row) {
        for (int i = 0; i < biasTokens.length; i++) {
            long at = (long) biasTokens[i] * Float.BYTES;
            row.set(ValueLayout.JAVA_FLOAT, at, row.get(ValueLayout.JAVA_FLOAT, at) + biasValues[i]);
        }
        if (promptAndOutput != null) {
            float penalty = params.repetitionPenalty();
            for (int i = 0; i < promptAndOutput.size(); i++) {
                long at = (long) promptAndOutput.token(i) * Float.BYTES;
                float logit = row.get(ValueLayout.JAVA_FLOAT, at);
                row.set(ValueLayout.JAVA_FLOAT, at, logit > 0f ? logit / penalty : logit * penalty);
            }
        }
        if (output != null) {
            float frequency = params.frequencyPenalty();
            float presence = params.presencePenalty();
            for (int i = 0; i < output.size(); i++) {
                long at = (long) output.token(i) * Float.BYTES;
                row.set(ValueLayout.JAVA_FLOAT, at, row.get(ValueLayout.JAVA_FLOAT, at) - output.count(i) * frequency - presence);
            }
        }
    }
}
