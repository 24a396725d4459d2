package dev.sluice.engine.runner;

import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.llama.LlamaReference;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.model.ModelWeights;
import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StoriesParityTest {

    @Test
    void matchesLlamaDecode() {
        Path model = TestModels.stories260K();
        try (LlamaReference reference = LlamaReference.open(model, 256);
             Backend cpu = Backend.cpu(2);
             ModelWeights weights = ModelWeights.load(model, cpu);
             KvCache cache = new KvCache(weights.config(), cpu, 4, 64, KvCache.CacheType.F16);
             ModelRunner runner = new ModelRunner(weights, cache, cpu)) {
            int[] prompt = reference.tokenize("Once upon a time");
            float[] expected = reference.lastLogits(prompt);

            List<Integer> free = new ArrayList<>();
            for (int b = 0; b < 64; b++) free.add(b);
            Collections.shuffle(free, new Random(7));
            int[] table = new int[20];
            for (int i = 0; i < table.length; i++) table[i] = free.get(i);

            Batch batch = new Batch();
            batch.add(prompt, 0, prompt.length, 0, table, (prompt.length + 3) / 4, Batch.Logits.LAST);
            float[] actual = runner.forward(batch).copyRow(0);
            float maxAbs = 0, maxDiff = 0;
            for (int i = 0; i < expected.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
                maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
            }
            System.out.println("max |logit| " + maxAbs + " max diff " + maxDiff);
            assertTrue(maxDiff <= 1e-3f * maxAbs, "max diff " + maxDiff);

            int[] greedy = reference.greedy(prompt, 64, false);
            int[] ours = new int[64];
            int next = LlamaReference.argmax(actual);
            int pos = prompt.length;
            for (int i = 0; i < 64; i++) {
                ours[i] = next;
                batch.clear();
                batch.addToken(next, pos, table, pos / 4 + 1);
                next = LlamaReference.argmax(runner.forward(batch).copyRow(0));
                pos++;
            }
            System.out.println(reference.vocab().detokenize(ours, true, false));
            assertArrayEquals(greedy, ours);
        }
    }
}
