package dev.sluice.engine.runner;

import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.llama.LlamaContext;
import dev.sluice.bindings.llama.LlamaReference;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.model.ModelWeights;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A step computed in segments of its graph (as a long step is, so that the thread count can change
 * within it) decodes as llama.cpp does, and its logits are the whole graph's.
 */
class SegmentedStepTest {

    private static final int BLOCK = 16;

    @Test
    void segmentedStepsDecodeLikeLlamaCppAndGiveTheWholeGraphsLogits() {
        Path model = TestModelGenerator.ensure(Preset.TINY_LLAMA, WeightType.F16, 7);
        Random random = new Random(5);
        int[] lengths = {40, 170, 9};
        try (LlamaReference reference = LlamaReference.open(model, LlamaContext.Options.defaults(1024).withThreads(2)
                     .withFlashAttention(LlamaContext.FlashAttention.ON));
             Backend cpu = Backend.cpu(2);
             ModelWeights weights = ModelWeights.load(model, cpu);
             KvCache cache = new KvCache(weights.config(), cpu, BLOCK, 64, KvCache.CacheType.F16);
             ModelRunner runner = new ModelRunner(weights, cache, cpu, true)) {
            // One prompt's logits, whole and in 7 segments at changing thread counts.
            int[] prompt = random.ints(60, 100, 20_000).toArray();
            int[] table = {3, 9, 4, 20};
            Batch batch = new Batch();
            batch.add(prompt, 0, prompt.length, 0, table, table.length, Batch.Logits.ALL);
            float[] whole = runner.forward(batch).row(0).toArray(ValueLayout.JAVA_FLOAT);
            float[] wholeLast = runner.forward(batch).row(prompt.length - 1).toArray(ValueLayout.JAVA_FLOAT);
            runner.forceSegments(7);
            Logits segmented = runner.forward(batch);
            assertEquals(7, runner.lastTimings().segments());
            assertClose(whole, segmented.row(0).toArray(ValueLayout.JAVA_FLOAT));
            assertClose(wholeLast, segmented.row(prompt.length - 1).toArray(ValueLayout.JAVA_FLOAT));

            // Chunked prefills and decodes, every step in segments: llama.cpp's greedy tokens.
            runner.forceSegments(5);
            List<GreedyDriver.Sequence> sequences = new ArrayList<>();
            int next = 0;
            for (int i = 0; i < lengths.length; i++) {
                int[] blocks = new int[(lengths[i] + 10 + BLOCK - 1) / BLOCK];
                for (int b = 0; b < blocks.length; b++) {
                    blocks[b] = 63 - next++; // away from the blocks above, and descending: gathered
                }
                sequences.add(new GreedyDriver.Sequence(random.ints(lengths[i], 100, 20_000).toArray(), blocks, 64, i));
            }
            GreedyDriver.run(runner, BLOCK, sequences, 10);
            assertEquals(5, runner.lastTimings().segments());
            for (int i = 0; i < sequences.size(); i++) {
                GreedyDriver.Sequence s = sequences.get(i);
                assertArrayEquals(reference.greedy(s.prompt, 10, false), s.generatedTokens(), "sequence " + i);
            }
        }
    }

    /** Within 1e-4 of the largest logit: the segments compute an RMS norm and its weight apart (no fusion). */
    private static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        float scale = 0;
        for (float v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4f * scale, "logit " + i);
        }
    }
}
