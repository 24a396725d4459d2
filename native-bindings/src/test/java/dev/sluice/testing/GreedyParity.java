package dev.sluice.testing;

import dev.sluice.bindings.llama.LlamaReference;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Greedy tokens compared with llama.cpp's, up to a float tie. A random-weight model's two best
 * logits are now and then closer than the kernels' rounding: on an AVX-512 Xeon, llama.cpp scores
 * one such context 19.0016 vs 19.0270 decoding token by token and the other way round in one
 * pass. Where the tokens first differ, llama.cpp scoring that same context in one pass must rank
 * Sluice's token within the logits tolerance of its best ({@code 1e-3} of the largest logit, what
 * the engine's logits parity tests allow); past it the two continuations are different texts.
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
        int[] context = Arrays.copyOf(prompt, prompt.length + first);
        System.arraycopy(actual, 0, context, prompt.length, first);
        float[] logits = reference.lastLogits(context);
        float best = Float.NEGATIVE_INFINITY;
        float largest = 0;
        for (float l : logits) {
            best = Math.max(best, l);
            largest = Math.max(largest, Math.abs(l));
        }
        float behind = best - logits[actual[first]];
        assertTrue(behind <= TOLERANCE * largest, label + ": token " + first + " is " + actual[first] + ", llama.cpp's "
                + expected[first] + "; llama.cpp puts it " + behind + " below its best logit " + best
                + ", more than a float tie (expected " + Arrays.toString(expected) + ", was " + Arrays.toString(actual) + ")");
    }
}
