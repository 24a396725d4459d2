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

    /** Scores {@code token} against a raw logits row of {@code workspace.vocabSize()} floats. */
    public static PromptLogprob score(java.lang.foreign.MemorySegment logits, int token, int top,
                                      SamplingWorkspace workspace) {
        int vocab = workspace.vocabSize();
        SampledToken scored = Logprobs.score(logits, vocab, token, top, workspace);
        float own = logits.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, token);
        int above = 0;
        for (int i = 0; i < vocab; i++) {
            if (logits.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i) > own) {
                above++;
            }
        }
        return new PromptLogprob(token, scored.logprob(), above + 1, scored.topLogprobs());
    }
}
