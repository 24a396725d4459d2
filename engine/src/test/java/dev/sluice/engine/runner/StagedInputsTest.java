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

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The inputs path a GPU takes (every input written to host staging, then copied to its tensor),
 * forced on the CPU: a batch of sequences with scattered blocks, prefill chunks and decodes in
 * several attention groups still decodes exactly as llama.cpp decodes each sequence alone. Inputs
 * that overlap in staging (tokens written over by positions and slots) would fail it.
 */
class StagedInputsTest {

    private static final int BLOCK = 8;

    @Test
    void stagedInputsDecodeLikeLlamaCpp() {
        Path model = TestModelGenerator.ensure(Preset.TINY_QWEN2, WeightType.F16, 11);
        Random random = new Random(3);
        int[] lengths = {14, 300, 9, 33};
        try (LlamaReference reference = LlamaReference.open(model, LlamaContext.Options.defaults(1024).withThreads(2)
                     .withFlashAttention(LlamaContext.FlashAttention.ON));
             Backend cpu = Backend.cpu(2);
             ModelWeights weights = ModelWeights.load(model, cpu);
             KvCache cache = new KvCache(weights.config(), cpu, BLOCK, 96, KvCache.CacheType.F16);
             ModelRunner runner = new ModelRunner(weights, cache, cpu, true, false)) {
            List<Integer> pool = new ArrayList<>();
            for (int b = 0; b < cache.blocks(); b++) {
                pool.add(b);
            }
            Collections.shuffle(pool, new Random(17));
            List<GreedyDriver.Sequence> sequences = new ArrayList<>();
            int next = 0;
            for (int i = 0; i < lengths.length; i++) {
                int[] prompt = random.ints(lengths[i], 100, 20_000).toArray();
                int[] table = new int[(lengths[i] + 12 + BLOCK - 1) / BLOCK];
                for (int b = 0; b < table.length; b++) {
                    table[b] = pool.get(next++);
                }
                // Chunked prefills that start at different steps: mixed steps of prefill and decode.
                sequences.add(new GreedyDriver.Sequence(prompt, table, 64, i));
            }
            GreedyDriver.run(runner, BLOCK, sequences, 12);
            for (int i = 0; i < sequences.size(); i++) {
                GreedyDriver.Sequence s = sequences.get(i);
                assertArrayEquals(reference.greedy(s.prompt, 12, false), s.generatedTokens(), "sequence " + i);
            }
        }
    }
}
