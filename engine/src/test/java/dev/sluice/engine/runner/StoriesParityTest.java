package dev.sluice.engine.runner;

import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.llama.LlamaContext;
import dev.sluice.bindings.llama.LlamaReference;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.model.ModelWeights;
import dev.sluice.testing.TestModels;
import dev.sluice.testing.TestDevice;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** stories260K (real weights) through the engine, against llama.cpp's own decoder. */
class StoriesParityTest {

    private static final int BLOCK = 4;

    @Test
    void batchOfInterleavedSequencesDecodesLikeEachAlone() {
        Path model = TestModels.stories260K();
        String[] prompts = {"Once upon a time", "The cat sat on the", "Tom and Sue went to the park to play with their",
                "One day"};
        try (LlamaReference reference = LlamaReference.open(model, TestDevice.referenceModel(), LlamaContext.Options.defaults(512));
             Backend cpu = TestDevice.backend(2);
             ModelWeights weights = ModelWeights.load(model, cpu);
             KvCache cache = new KvCache(weights.config(), cpu, BLOCK, 128, KvCache.CacheType.F16);
             ModelRunner runner = new ModelRunner(weights, cache, cpu)) {
            // Blocks handed out round-robin from a shuffled pool: every sequence's blocks are
            // scattered and interleaved with the others'.
            List<Integer> pool = new ArrayList<>();
            for (int b = 0; b < cache.blocks(); b++) {
                pool.add(b);
            }
            Collections.shuffle(pool, new Random(11));
            int[][] tables = new int[prompts.length][24];
            for (int i = 0, next = 0; i < 24; i++) {
                for (int[] table : tables) {
                    table[i] = pool.get(next++);
                }
            }
            List<GreedyDriver.Sequence> sequences = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) {
                int[] prompt = reference.tokenize(prompts[i]);
                // The last one arrives late and prefills in chunks of 3 while the others decode.
                boolean late = i == prompts.length - 1;
                sequences.add(new GreedyDriver.Sequence(prompt, tables[i], late ? 3 : prompt.length, late ? 5 : 0));
            }
            GreedyDriver.run(runner, BLOCK, sequences, 40);

            for (GreedyDriver.Sequence s : sequences) {
                int[] expected = reference.greedy(s.prompt, 40, false);
                assertArrayEquals(expected, s.generatedTokens(),
                        () -> "sequence " + reference.vocab().detokenize(s.prompt, true, false));
            }
            assertEquals(4, sequences.size());
        }
    }
}
