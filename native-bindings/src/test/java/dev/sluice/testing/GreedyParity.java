package dev.sluice.testing;

import dev.sluice.bindings.llama.LlamaReference;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Greedy tokens compared with llama.cpp's, up to a float tie. A random-weight model's two best
 * logits are now and then closer than the kernels' rounding: on an AVX-512 Xeon, llama.cpp scores
 * one such context 19.0016 vs 19.0270 decoding token by token and the other way round in one
 * pass. From the first token where the two differ on, the texts differ, so each of Sluice's
 * tokens from there is checked against llama.cpp scoring Sluice's own context in one pass: it must
 * be within the logits tolerance of llama.cpp's best ({@code 1e-3} of the largest logit, what the
 * engine's logits parity tests allow).
 */
public final class GreedyParity {

    private static final float TOLERANCE = 1e-3f;

    private GreedyParity() {
    }

    public static void assertSameUpToTie(LlamaReference reference, int[] prompt, int[] expected, int[] actual, String label) {
        assertEquals(expected.length, actual.length, label + ": token count");
        int first = 0;
        while (first < expected.length && expected[first] == actual[first]) {
            first++;
        }
        if (first == expected.length) {
            return;
        }
        int[] context = Arrays.copyOf(prompt, prompt.length + actual.length - 1);
        System.arraycopy(actual, 0, context, prompt.length, actual.length - 1);
        float[][] rows = reference.promptLogits(context);
        for (int j = first; j < actual.length; j++) {
            float[] logits = rows[prompt.length + j - 1];
            float best = Float.NEGATIVE_INFINITY;
            float largest = 0;
            for (float l : logits) {
                best = Math.max(best, l);
                largest = Math.max(largest, Math.abs(l));
            }
            float behind = best - logits[actual[j]];
            assertTrue(behind <= TOLERANCE * largest, label + ": token " + j + " is " + actual[j]
                    + ", which llama.cpp scoring this context puts " + behind + " below its best logit " + best
                    + ", more than a float tie (llama.cpp greedy " + Arrays.toString(expected) + ", Sluice "
                    + Arrays.toString(actual) + ", first difference at " + first + ")");
        }
    }
}
