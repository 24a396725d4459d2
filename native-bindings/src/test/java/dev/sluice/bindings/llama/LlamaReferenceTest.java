package dev.sluice.bindings.llama;

import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlamaReferenceTest {

    @Test
    void stories260KTellsItsStory() {
        try (LlamaReference reference = LlamaReference.open(TestModels.stories260K(), 256)) {
            int[] prompt = reference.tokenize("Once upon a time");
            assertEquals(reference.vocab().bos(), prompt[0]);
            int[] continuation = reference.greedy(prompt, 48, true);
            String story = reference.vocab().detokenize(continuation, true, false);
            assertTrue(story.startsWith(", there was a little girl named Lily."), story);
            assertTrue(story.contains("She loved to play outside in the park."), story);
        }
    }

    @Test
    void promptLogitsMatchIncrementalDecoding() {
        try (LlamaReference reference = LlamaReference.open(TestModels.stories260K(), 128)) {
            int[] prompt = reference.tokenize("Once upon a time there was");
            float[][] all = reference.promptLogits(prompt);
            assertEquals(prompt.length, all.length);
            assertEquals(reference.vocab().size(), all[0].length);
            float[] last = reference.lastLogits(prompt);
            for (int i = 0; i < last.length; i++) {
                assertEquals(all[prompt.length - 1][i], last[i], 1e-4f * Math.max(1f, Math.abs(last[i])), "logit " + i);
            }
            // Greedy over the same model is deterministic.
            assertArrayEquals(reference.greedy(prompt, 16, false), reference.greedy(prompt, 16, false));
        }
    }
}
