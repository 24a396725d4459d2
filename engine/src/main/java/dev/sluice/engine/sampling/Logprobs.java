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
    static SampledToken score(MemorySegment logits, int vocabSize, int token, int top) {
        int[] topTokens = new int[top];
        float[] topLogits = new float[top];
        int kept = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) {
            float logit = logits.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            max = Math.max(max, logit);
            if (top > 0 && (kept < top || logit > topLogits[kept - 1])) {
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
        double sum = 0;
        for (int i = 0; i < vocabSize; i++) {
            sum += Math.exp(logits.getAtIndex(ValueLayout.JAVA_FLOAT, i) - max);
        }
        double logNormalizer = max + Math.log(sum);
        List<TokenLogprob> alternatives = new ArrayList<>(kept);
        for (int i = 0; i < kept; i++) {
            alternatives.add(new TokenLogprob(topTokens[i], (float) (topLogits[i] - logNormalizer)));
        }
        float chosen = (float) (logits.getAtIndex(ValueLayout.JAVA_FLOAT, token) - logNormalizer);
        return new SampledToken(token, chosen, alternatives);
    }
}
