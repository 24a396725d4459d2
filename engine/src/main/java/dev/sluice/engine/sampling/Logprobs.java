package dev.sluice.engine.sampling;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/** Log-probabilities from a raw logits row: its log-softmax, computed only when a request asks. */
final class Logprobs {

    private Logprobs() {
    }

    /** {@code token} with its log-probability and the {@code top} most likely tokens with theirs. */
    static SampledToken score(MemorySegment logits, int vocabSize, int token, int top, SamplingWorkspace workspace) {
        int[] topTokens = new int[top];
        float[] topLogits = new float[top];
        int kept = 0;
        for (int i = 0; top > 0 && i < vocabSize; i++) {
            float logit = logits.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (kept < top || logit > topLogits[kept - 1]) {
                // Insertion into the short sorted list; strict > keeps the lower id first on ties.
                int at = kept < top ? kept++ : top - 1;
                while (at > 0 && logit > topLogits[at - 1]) {
                    topLogits[at] = topLogits[at - 1];
                    topTokens[at] = topTokens[at - 1];
                    at--;
                }
                topLogits[at] = logit;
                topTokens[at] = i;
            }
        }
        RowOps ops = RowOps.get();
        float max = ops.max(logits, vocabSize);
        double sum = ops.softmaxNumerators(logits, workspace.numerators(), vocabSize, max, 1f, Float.NEGATIVE_INFINITY);
        double logNormalizer = max + Math.log(sum);
        List<TokenLogprob> alternatives = new ArrayList<>(kept);
        for (int i = 0; i < kept; i++) {
            alternatives.add(new TokenLogprob(topTokens[i], (float) (topLogits[i] - logNormalizer)));
        }
        float chosen = (float) (logits.getAtIndex(ValueLayout.JAVA_FLOAT, token) - logNormalizer);
        return new SampledToken(token, chosen, alternatives);
    }
}
