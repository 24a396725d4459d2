package dev.sluice.engine.sampling;

import dev.sluice.bindings.llama.LlamaModel;
import dev.sluice.bindings.llama.LlamaVocab;
import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static dev.sluice.engine.sampling.TestLogits.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A step's rows sampled over several lanes at once give exactly what one lane gives: each
 * sequence's sampler (its seed, penalties and grammar) is its own, wherever it runs. On Qwen2's
 * 152k vocabulary, with grammars and plain draws mixed.
 */
class SamplersLanesTest {

    private static LlamaModel model;
    private static LlamaVocab vocab;

    @BeforeAll
    static void load() {
        model = LlamaModel.loadVocabOnly(TestModels.llamaCppVocab("ggml-vocab-qwen2.gguf"));
        vocab = model.vocab();
    }

    @AfterAll
    static void unload() {
        model.close();
    }

    private static SamplingParams params(int i) {
        SamplingParams.Builder b = SamplingParams.builder().seed(100 + i);
        if (i % 3 == 0) {
            b.grammar("root ::= \"{\\\"n\\\": \" [0-9]{1,6} \"}\"");
        }
        if (i % 4 == 1) {
            b.topK(40).frequencyPenalty(0.5f);
        }
        if (i % 5 == 2) {
            b.temperature(0f);
        }
        return b.build();
    }

    /** Tokens per step per sequence, sampling {@code sequences} sequences over {@code lanes} lanes. */
    private static int[][] run(int lanes, int sequences, int steps) {
        int[][] out = new int[steps][sequences];
        Random random = new Random(42);
        try (Arena arena = Arena.ofShared(); Samplers samplers = new Samplers(new SamplingWorkspace(vocab), lanes)) {
            assertEquals(lanes, samplers.laneCount());
            long[] ids = new long[sequences];
            MemorySegment[] rows = new MemorySegment[sequences];
            for (int s = 0; s < sequences; s++) {
                ids[s] = 1000L * s;
                samplers.start(ids[s], params(s), new int[] {1, 2, 3});
                rows[s] = arena.allocate(ValueLayout.JAVA_FLOAT, vocab.size());
            }
            for (int step = 0; step < steps; step++) {
                for (int s = 0; s < sequences; s++) {
                    MemorySegment.copy(gaussian(random, vocab.size(), 3), 0, rows[s], ValueLayout.JAVA_FLOAT, 0, vocab.size());
                }
                SampledToken[] tokens = new SampledToken[sequences];
                String[] errors = new String[sequences];
                samplers.sampleAll(ids, rows, sequences, tokens, errors);
                for (int s = 0; s < sequences; s++) {
                    assertNull(errors[s], errors[s]);
                    out[step][s] = tokens[s].token();
                }
            }
            for (long id : ids) {
                samplers.end(id);
            }
            assertEquals(0, samplers.size());
        }
        return out;
    }

    @Test
    void lanesSampleExactlyWhatOneLaneSamples() {
        int[][] one = run(1, 12, 6);
        int[][] three = run(3, 12, 6);
        for (int step = 0; step < one.length; step++) {
            assertArrayEquals(one[step], three[step], "step " + step);
        }
        Set<Integer> distinct = new HashSet<>();
        for (int[] step : one) {
            for (int t : step) {
                distinct.add(t);
            }
        }
        assertTrue(distinct.size() > 12, "the draws vary: " + distinct.size());
    }
}
