package dev.sluice.bindings.llama;

import dev.sluice.bindings.ggml.OpTimes;
import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A profiled llama.cpp context decodes exactly as an unprofiled one and times every node by op. */
class LlamaProfileTest {

    @Test
    void profiledDecodeGivesTheSameLogitsAndTimesEveryOp() {
        try (LlamaModel model = LlamaModel.load(TestModels.stories260K(), LlamaModel.Options.CPU)) {
            LlamaContext.Options options = LlamaContext.Options.defaults(128).withThreads(2);
            int[] prompt = model.vocab().tokenize("Once upon a time", true, false);
            OpTimes times = new OpTimes();
            float[] plain;
            float[] profiled;
            try (LlamaContext context = LlamaContext.create(model, options)) {
                plain = decode(context, prompt);
            }
            try (LlamaContext context = LlamaContext.create(model, options, times)) {
                profiled = decode(context, prompt);
            }
            assertArrayEquals(plain, profiled);
            var entries = times.entries();
            assertTrue(entries.containsKey("MUL_MAT"), entries.keySet().toString());
            assertTrue(entries.containsKey("GET_ROWS"), entries.keySet().toString());
            assertFalse(entries.containsKey("VIEW") || entries.containsKey("RESHAPE") || entries.containsKey("PERMUTE"),
                    "views are not counted: " + entries.keySet());
            // stories260K has 5 layers: q, k, v, o, gate, up, down per layer, and the output head.
            assertEquals(5 * 7 + 1, entries.get("MUL_MAT").nodes());
            assertTrue(times.totalNanos() > 0);
        }
    }

    private static float[] decode(LlamaContext context, int[] prompt) {
        try (LlamaBatch batch = new LlamaBatch(prompt.length)) {
            for (int i = 0; i < prompt.length; i++) {
                batch.add(prompt[i], i, 0, i == prompt.length - 1);
            }
            context.decode(batch);
            return context.logits(prompt.length - 1);
        }
    }
}
