package dev.sluice.engine.runner;

import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.llama.LlamaContext;
import dev.sluice.bindings.llama.LlamaReference;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.model.ModelWeights;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;
import dev.sluice.testing.GreedyParity;
import dev.sluice.testing.TestDevice;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.IntUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Decode sequences of very different context lengths are attended in separate groups (sorted by
 * length, so one long context does not pad the short ones to its length), their graph rows
 * reordered, and each still decodes as llama.cpp decodes the same sequences together.
 */
class DecodeGroupingTest {

    private static final int BLOCK = 8;

    @Test
    void oneLongContextAmongShortOnesGetsItsOwnGroupAndEverySequenceMatchesLlamaCpp() {
        Path model = TestModelGenerator.ensure(Preset.TINY_LLAMA, WeightType.F16, 7);
        Random random = new Random(5);
        // The long one sits in the middle of the batch, so the reordering is visible.
        int[] lengths = {12, 17, 700, 9, 21};
        try (Rig rig = Rig.open(model, 160)) {
            List<Integer> pool = new ArrayList<>();
            for (int b = 0; b < rig.cache().blocks(); b++) {
                pool.add(b);
            }
            Collections.shuffle(pool, new Random(13));
            List<GreedyDriver.Sequence> sequences = sequences(lengths, random, pool::get);
            GreedyDriver.run(rig.runner(), BLOCK, sequences, 16);

            // The last step decodes all five: the four short contexts together, the long one alone.
            assertEquals(2, rig.runner().lastTimings().attentionGroups());
            assertMatchesLlamaCpp(rig.reference(), sequences);
        }
    }

    @Test
    void longContextsOnConsecutiveBlocksAreReadInPlaceAndMatchLlamaCpp() {
        Path model = TestModelGenerator.ensure(Preset.TINY_LLAMA, WeightType.F16, 7);
        Random random = new Random(6);
        int min = AttentionPlan.IN_PLACE_MIN_POSITIONS;
        int[] lengths = {min + 22, 14, min + 150, min + 5, 30};
        try (Rig rig = Rig.open(model, 160)) {
            List<GreedyDriver.Sequence> sequences = sequences(lengths, random, i -> i); // each on consecutive blocks
            GreedyDriver.run(rig.runner(), BLOCK, sequences, 16);

            // The last step: the two short contexts gathered together; the three long ones in place,
            // the first two as two streams of one op (the first one's view runs over the second
            // one's blocks and the short one's between them, masked), the third alone (not equally spaced).
            assertEquals(3, rig.runner().lastTimings().attentionGroups());
            assertEquals(2L * (30 + 15), rig.runner().lastTimings().gatheredRows(), "only the short ones' rows (padded to the longer)");
            assertMatchesLlamaCpp(rig.reference(), sequences);
        }
    }

    @Test
    void sequencesInEqualRegionsOfThePoolAreStreamsOfOneInPlaceOpAndMatchLlamaCpp() {
        Path model = TestModelGenerator.ensure(Preset.TINY_LLAMA, WeightType.F16, 7);
        Random random = new Random(7);
        // Regions of 32 blocks, as llama.cpp lays out its per-slot streams; the last sequence is
        // longer than a region, so every other stream's view overlaps the next ones' rows.
        int[] lengths = {70, 130, 90, 200, 300};
        int region = 32;
        try (Rig rig = Rig.open(model, 256)) {
            List<GreedyDriver.Sequence> sequences = new ArrayList<>();
            for (int s = 0; s < lengths.length; s++) {
                int[] prompt = random.ints(lengths[s], 100, 20_000).toArray();
                int[] table = new int[(lengths[s] + 16 + BLOCK - 1) / BLOCK];
                for (int i = 0; i < table.length; i++) {
                    table[i] = s * region + i;
                }
                sequences.add(new GreedyDriver.Sequence(prompt, table, lengths[s], 0));
            }
            GreedyDriver.run(rig.runner(), BLOCK, sequences, 16);

            assertEquals(1, rig.runner().lastTimings().attentionGroups(), "the last step: all five as streams of one op");
            assertEquals(0, rig.runner().lastTimings().gatheredRows());
            assertMatchesLlamaCpp(rig.reference(), sequences);
        }
    }

    /** llama.cpp's reference over {@code model} and a Sluice runner with a pool of {@code blocks} F16 blocks, closed together. */
    private record Rig(LlamaReference reference, Backend cpu, ModelWeights weights, KvCache cache, ModelRunner runner)
            implements AutoCloseable {

        static Rig open(Path model, int blocks) {
            LlamaReference reference = LlamaReference.open(model, TestDevice.referenceModel(),
                    LlamaContext.Options.defaults(5 * 1024).withMaxSequences(5).withThreads(2)
                            .withFlashAttention(LlamaContext.FlashAttention.ON));
            Backend cpu = TestDevice.backend(2);
            ModelWeights weights = ModelWeights.load(model, cpu);
            KvCache cache = new KvCache(weights.config(), cpu, BLOCK, blocks, KvCache.CacheType.F16);
            return new Rig(reference, cpu, weights, cache, new ModelRunner(weights, cache, cpu));
        }

        @Override
        public void close() {
            runner.close();
            cache.close();
            weights.close();
            cpu.close();
            reference.close();
        }
    }

    /** Sequences of random prompts of {@code lengths}, with room for 16 tokens; block table entry k is {@code block(k)}, numbered across all of them. */
    private static List<GreedyDriver.Sequence> sequences(int[] lengths, Random random, IntUnaryOperator block) {
        List<GreedyDriver.Sequence> sequences = new ArrayList<>();
        int next = 0;
        for (int length : lengths) {
            int[] prompt = random.ints(length, 100, 20_000).toArray();
            int[] table = new int[(length + 16 + BLOCK - 1) / BLOCK];
            for (int i = 0; i < table.length; i++) {
                table[i] = block.applyAsInt(next++);
            }
            sequences.add(new GreedyDriver.Sequence(prompt, table, length, 0));
        }
        return sequences;
    }

    /**
     * Every sequence's 16 generated tokens are llama.cpp's greedy ones for its prompt, all prompts
     * decoded together, up to a float tie ({@link GreedyParity}).
     */
    private static void assertMatchesLlamaCpp(LlamaReference reference, List<GreedyDriver.Sequence> sequences) {
        int[][] expected = reference.greedyTogether(sequences.stream().map(s -> s.prompt).toList(), 16);
        for (int i = 0; i < sequences.size(); i++) {
            GreedyDriver.Sequence s = sequences.get(i);
            GreedyParity.assertSameUpToTie(reference, s.prompt, expected[i], s.generatedTokens(), "sequence " + i);
        }
    }
}
