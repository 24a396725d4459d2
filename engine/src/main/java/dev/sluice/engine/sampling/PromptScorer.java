package dev.sluice.engine.sampling;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Scores a prompt token against the raw logits row the tokens before it produced: the row's
 * log-softmax (as sampled tokens' logprobs, {@link Logprobs}), its rank, and the most likely
 * alternatives. Engine-thread only (it uses the sampling workspace).
 */
public final class PromptScorer {

    private PromptScorer() {
    }

    /** Scores {@code token} against a raw logits row of {@code workspace.vocabSize()} floats. */
    public static PromptLogprob score(MemorySegment logits, int token, int top, SamplingWorkspace workspace) {
        int vocab = workspace.vocabSize();
        SampledToken scored = Logprobs.score(logits, vocab, token, top, workspace);
        float own = logits.getAtIndex(ValueLayout.JAVA_FLOAT, token);
        int above = 0;
        for (int i = 0; i < vocab; i++) {
            if (logits.getAtIndex(ValueLayout.JAVA_FLOAT, i) > own) {
                above++;
            }
        }
        return new PromptLogprob(token, scored.logprob(), above + 1, scored.topLogprobs());
    }
}
