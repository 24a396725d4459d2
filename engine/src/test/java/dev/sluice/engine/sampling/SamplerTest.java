package dev.sluice.engine.sampling;

import dev.sluice.bindings.llama.LlamaModel;
import dev.sluice.bindings.llama.LlamaReference;
import dev.sluice.bindings.llama.LlamaSampler;
import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;

import static dev.sluice.engine.sampling.TestLogits.constant;
import static dev.sluice.engine.sampling.TestLogits.gaussian;
import static dev.sluice.engine.sampling.TestLogits.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Token choice: greedy, seeded draws, bias, penalties, truncation and temperature, on real native samplers. */
class SamplerTest {

    private static LlamaModel model;
    private static int vocabSize;

    private Arena arena;
    private SamplingWorkspace workspace;
    private MemorySegment row;

    @BeforeAll
    static void load() {
        model = LlamaModel.loadVocabOnly(TestModels.llamaCppVocab("ggml-vocab-llama-spm.gguf"));
        vocabSize = model.vocab().size();
    }

    @AfterAll
    static void unload() {
        model.close();
    }

    @BeforeEach
    void open() {
        arena = Arena.ofConfined();
        workspace = new SamplingWorkspace(model.vocab());
        row = arena.allocate(ValueLayout.JAVA_FLOAT, vocabSize);
    }

    @AfterEach
    void close() {
        workspace.close();
        arena.close();
    }

    @Test
    void greedyPicksTheArgmaxAndTheLowestIdOnTies() {
        // A penalty with nothing to penalize yet takes the candidate-array path instead of the fast scan.
        SamplingParams viaCandidates = SamplingParams.GREEDY.toBuilder().presencePenalty(1f).build();
        Random random = new Random(1);
        try (Sampler fast = new Sampler(SamplingParams.GREEDY, workspace);
             Sampler slow = new Sampler(viaCandidates, workspace)) {
            for (int step = 0; step < 50; step++) {
                float[] logits = gaussian(random, vocabSize, 3);
                int expected = LlamaReference.argmax(logits);
                assertEquals(expected, fast.sample(write(row, logits)).token());
                assertEquals(expected, slow.sample(row).token());
            }
            float[] tied = gaussian(random, vocabSize, 1);
            tied[9000] = 50f;
            tied[4000] = 50f;
            tied[12000] = 50f;
            assertEquals(4000, LlamaReference.argmax(tied));
            assertEquals(4000, fast.sample(write(row, tied)).token());
            assertEquals(4000, slow.sample(row).token());
        }
    }

    @Test
    void topKOneIsGreedyAtAnyTemperature() {
        Random random = new Random(2);
        for (float temperature : new float[] {0.5f, 1f, 4f}) {
            SamplingParams params = SamplingParams.builder().topK(1).temperature(temperature).seed(11).build();
            try (Sampler sampler = new Sampler(params, workspace)) {
                for (int step = 0; step < 20; step++) {
                    float[] logits = gaussian(random, vocabSize, 1);
                    assertEquals(LlamaReference.argmax(logits), sampler.sample(write(row, logits)).token());
                }
                float[] tied = constant(vocabSize, 0f);
                tied[300] = 2f;
                tied[200] = 2f;
                assertEquals(200, sampler.sample(write(row, tied)).token());
            }
        }
    }

    @Test
    void seededSamplingIsReproducibleAndSeedsDiverge() {
        SamplingParams params = SamplingParams.builder().temperature(0.9f).topP(0.95f).minP(0.001f).build();
        int[] first = generate(params.toBuilder().seed(42).build(), 100);
        int[] again = generate(params.toBuilder().seed(42).build(), 100);
        int[] other = generate(params.toBuilder().seed(43).build(), 100);
        assertArrayEquals(first, again);
        assertFalse(Arrays.equals(first, other), "seeds 42 and 43 drew the same 100 tokens");
        assertTrue(Arrays.stream(first).distinct().count() > 50, "draws from flat logits should vary");
        assertFalse(Arrays.equals(generate(params, 100), generate(params, 100)), "no seed: two runs drew alike");
    }

    /** Samples and accepts {@code steps} tokens from the same sequence of random logits rows. */
    private int[] generate(SamplingParams params, int steps) {
        Random random = new Random(5);
        int[] tokens = new int[steps];
        try (Sampler sampler = new Sampler(params, workspace)) {
            for (int step = 0; step < steps; step++) {
                tokens[step] = sampler.sample(write(row, gaussian(random, vocabSize, 1))).token();
                sampler.accept(tokens[step]);
            }
        }
        return tokens;
    }

    @Test
    void logitBiasForcesAndBansTokens() {
        Random random = new Random(3);
        float[] logits = gaussian(random, vocabSize, 2);
        int unlikely = TestLogits.ranking(logits)[vocabSize - 1];
        int hot = 777;
        logits[hot] = 15f; // about 93% of the mass without a bias
        write(row, logits);

        SamplingParams force = SamplingParams.builder().seed(1).logitBias(Map.of(unlikely, 100f)).build();
        try (Sampler sampler = new Sampler(force, workspace)) {
            for (int draw = 0; draw < 200; draw++) {
                assertEquals(unlikely, sampler.sample(row).token());
            }
        }
        int hotDraws = 0;
        try (Sampler sampler = new Sampler(SamplingParams.builder().seed(1).build(), workspace)) {
            for (int draw = 0; draw < 1000; draw++) {
                hotDraws += sampler.sample(row).token() == hot ? 1 : 0;
            }
        }
        assertTrue(hotDraws > 800, "unbiased, token " + hot + " was drawn " + hotDraws + " times of 1000");
        SamplingParams ban = SamplingParams.builder().seed(1).logitBias(Map.of(hot, -100f)).build();
        try (Sampler sampler = new Sampler(ban, workspace);
             Sampler greedy = new Sampler(SamplingParams.GREEDY.toBuilder().logitBias(Map.of(hot, -100f)).build(), workspace)) {
            for (int draw = 0; draw < 1000; draw++) {
                assertNotEquals(hot, sampler.sample(row).token());
            }
            assertEquals(TestLogits.ranking(logits)[1], greedy.sample(row).token());
        }
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        float[] positive = constant(vocabSize, -5f);
        positive[10] = 2f;
        positive[20] = 1.5f;
        assertEquals(20, greedyAfterPrompt(SamplingParams.GREEDY.toBuilder().repetitionPenalty(1.5f), positive, 10),
                "2 / 1.5 < 1.5");
        assertEquals(10, greedyAfterPrompt(SamplingParams.GREEDY.toBuilder().repetitionPenalty(1.2f), positive, 10),
                "2 / 1.2 > 1.5");
        float[] negative = constant(vocabSize, -5f);
        negative[10] = -1f;
        negative[20] = -1.4f;
        assertEquals(20, greedyAfterPrompt(SamplingParams.GREEDY.toBuilder().repetitionPenalty(1.5f), negative, 10),
                "-1 * 1.5 < -1.4");
        assertEquals(10, greedyAfterPrompt(SamplingParams.GREEDY.toBuilder(), negative, 10));

        // Generated tokens count as well as prompt tokens.
        try (Sampler sampler = new Sampler(SamplingParams.GREEDY.toBuilder().repetitionPenalty(1.5f).build(), workspace)) {
            assertEquals(10, sampler.sample(write(row, positive)).token());
            sampler.accept(10);
            assertEquals(20, sampler.sample(row).token());
        }
    }

    private int greedyAfterPrompt(SamplingParams.Builder params, float[] logits, int... prompt) {
        try (Sampler sampler = new Sampler(params.build(), workspace)) {
            sampler.acceptPrompt(prompt);
            return sampler.sample(write(row, logits)).token();
        }
    }

    @Test
    void frequencyAndPresencePenaltiesCountOnlyTheOutput() {
        float[] logits = constant(vocabSize, -5f);
        logits[10] = 2f;
        logits[20] = 1f;
        write(row, logits);
        try (Sampler sampler = new Sampler(SamplingParams.GREEDY.toBuilder().frequencyPenalty(0.6f).build(), workspace)) {
            sampler.acceptPrompt(new int[] {10, 10, 10, 10});
            assertEquals(10, sampler.sample(row).token(), "prompt tokens are not penalized");
            sampler.accept(10);
            assertEquals(10, sampler.sample(row).token(), "2 - 0.6 > 1");
            sampler.accept(10);
            assertEquals(20, sampler.sample(row).token(), "2 - 2 * 0.6 < 1");
        }
        logits[20] = 1.5f;
        write(row, logits);
        for (float presence : new float[] {0.6f, 0.4f}) {
            try (Sampler sampler = new Sampler(SamplingParams.GREEDY.toBuilder().presencePenalty(presence).build(), workspace)) {
                sampler.acceptPrompt(new int[] {10});
                assertEquals(10, sampler.sample(row).token(), "prompt tokens are not penalized");
                for (int i = 0; i < 3; i++) {
                    sampler.accept(10);
                }
                // Once, however often the token occurred: 2 - 0.6 < 1.5 < 2 - 0.4.
                assertEquals(presence == 0.6f ? 20 : 10, sampler.sample(row).token());
            }
        }
    }

    @Test
    void penaltiesLowerHowOftenPenalizedTokensAreDrawn() {
        Random random = new Random(4);
        float[] logits = gaussian(random, vocabSize, 1);
        int[] hot = {100, 101, 102, 103, 104};
        for (int token : hot) {
            logits[token] = 9f; // together about 40% of the mass
        }
        write(row, logits);
        SamplingParams base = SamplingParams.builder().seed(3).build();
        int unpenalized = hotDraws(base, hot, false);
        int frequency = hotDraws(base.toBuilder().frequencyPenalty(1f).build(), hot, false);
        int repetition = hotDraws(base.toBuilder().repetitionPenalty(2f).build(), hot, true);
        assertTrue(unpenalized > 150, "unpenalized hot draws: " + unpenalized + " of 500");
        assertTrue(frequency < unpenalized / 3, "frequency penalty: " + frequency + " vs " + unpenalized);
        assertTrue(repetition < unpenalized / 10, "repetition penalty on the prompt: " + repetition + " vs " + unpenalized);
    }

    private int hotDraws(SamplingParams params, int[] hot, boolean hotInPrompt) {
        Set<Integer> hotSet = new HashSet<>();
        Arrays.stream(hot).forEach(hotSet::add);
        int count = 0;
        try (Sampler sampler = new Sampler(params, workspace)) {
            if (hotInPrompt) {
                sampler.acceptPrompt(hot);
            }
            for (int draw = 0; draw < 500; draw++) {
                int token = sampler.sample(row).token();
                sampler.accept(token);
                count += hotSet.contains(token) ? 1 : 0;
            }
        }
        return count;
    }

    @Test
    void topPDrawsOnlyFromTheNucleus() {
        float[] logits = gaussian(new Random(6), vocabSize, 3);
        Set<Integer> allowed = TestLogits.nucleus(logits, 0.8, 0.6, 1e-4);
        assertTrue(allowed.size() > 3 && allowed.size() < 1000, "nucleus of " + allowed.size() + " tokens");
        assertDrawsWithin(SamplingParams.builder().temperature(0.8f).topP(0.6f).seed(8).build(), logits, allowed);
    }

    @Test
    void minPDrawsOnlyTokensNearTheTop() {
        float[] logits = gaussian(new Random(7), vocabSize, 3);
        Set<Integer> allowed = TestLogits.minPSet(logits, 1.3, 0.05, 1e-4);
        assertTrue(allowed.size() > 3 && allowed.size() < 1000, "min-p set of " + allowed.size() + " tokens");
        assertDrawsWithin(SamplingParams.builder().temperature(1.3f).minP(0.05f).seed(9).build(), logits, allowed);
    }

    @Test
    void topKDrawsOnlyTheKMostLikely() {
        float[] logits = gaussian(new Random(8), vocabSize, 1);
        Set<Integer> allowed = new HashSet<>();
        Arrays.stream(TestLogits.ranking(logits), 0, 5).forEach(allowed::add);
        assertDrawsWithin(SamplingParams.builder().temperature(2f).topK(5).seed(10).build(), logits, allowed);
    }

    private void assertDrawsWithin(SamplingParams params, float[] logits, Set<Integer> allowed) {
        Set<Integer> drawn = new HashSet<>();
        try (Sampler sampler = new Sampler(params, workspace)) {
            write(row, logits);
            for (int draw = 0; draw < 500; draw++) {
                int token = sampler.sample(row).token();
                assertTrue(allowed.contains(token), "token " + token + " is outside the " + allowed.size() + " allowed");
                drawn.add(token);
            }
        }
        assertTrue(drawn.size() > 2, "500 draws picked only " + drawn);
    }

    @Test
    void topPDrawsTheRenormalizedNucleusWithItsOwnProbabilities() {
        float[] logits = constant(vocabSize, -1000f);
        logits[1] = (float) Math.log(0.5);
        logits[2] = (float) Math.log(0.3);
        logits[3] = (float) Math.log(0.2);
        write(row, logits);
        // top-p 0.75: token 2 is kept (0.5 before it), token 3 is not (0.8 before it): 0.625 / 0.375.
        int[] counts = new int[4];
        try (Sampler sampler = new Sampler(SamplingParams.builder().topP(0.75f).seed(21).build(), workspace)) {
            for (int draw = 0; draw < 4000; draw++) {
                counts[sampler.sample(row).token()]++;
            }
        }
        assertEquals(0, counts[3] + counts[0], "only the nucleus");
        assertEquals(0.625, counts[1] / 4000.0, 0.03); // 4 standard deviations
        assertEquals(0.375, counts[2] / 4000.0, 0.03);
    }

    @Test
    void aSmallTopPOverAFlatDistributionStillKeepsExactlyItsNucleus() {
        // 0.2 % of a near-flat distribution: a draw from the whole row lands in it 1 time in 500,
        // so the sampler finds the nucleus by bisection instead of drawing until it hits.
        float[] logits = gaussian(new Random(12), vocabSize, 0.01);
        Set<Integer> allowed = TestLogits.nucleus(logits, 1.0, 0.002, 1e-6);
        assertTrue(allowed.size() >= 2 && allowed.size() < 100, "nucleus of " + allowed.size() + " tokens");
        assertDrawsWithin(SamplingParams.builder().topP(0.002f).seed(13).build(), logits, allowed);
    }

    @Test
    void topKAndTopPTogetherKeepTheNucleusOfTheTopK() {
        float[] logits = gaussian(new Random(14), vocabSize, 2);
        int[] ranking = TestLogits.ranking(logits);
        float[] topK = constant(vocabSize, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < 50; i++) {
            topK[ranking[i]] = logits[ranking[i]];
        }
        Set<Integer> allowed = TestLogits.nucleus(topK, 1.0, 0.5, 1e-4);
        assertTrue(allowed.size() > 3 && allowed.size() < 50, "nucleus of " + allowed.size() + " of the top 50");
        assertDrawsWithin(SamplingParams.builder().topK(50).topP(0.5f).seed(15).build(), logits, allowed);
    }

    @Test
    void selectionFindsTheKthLargest() {
        Random random = new Random(16);
        float[] values = gaussian(random, 10_000, 1);
        values[17] = values[18] = values[19] = 5f; // ties at the top
        float[] sorted = values.clone();
        Arrays.sort(sorted);
        float[] scratch = new float[values.length];
        for (int k : new int[] {1, 2, 3, 4, 40, 5000, 10_000}) {
            assertEquals(sorted[values.length - k], Selection.kthLargest(java.lang.foreign.MemorySegment.ofArray(values),
                    values.length, k, scratch), "k = " + k);
        }
    }

    @Test
    void minPAppliesBeforeTopPAsInVllm() {
        float[] logits = constant(vocabSize, -1000f);
        logits[1] = (float) Math.log(0.5);
        logits[2] = (float) Math.log(0.3);
        logits[3] = (float) Math.log(0.2);
        write(row, logits);
        // min-p 0.5 keeps tokens 1 and 2 (0.625 and 0.375 renormalized); top-p 0.6 then keeps token 1 alone.
        // Top-p first would keep 1 and 2 (0.5 < 0.6) and min-p would keep both.
        SamplingParams params = SamplingParams.builder().minP(0.5f).topP(0.6f).seed(12).build();
        try (Sampler sampler = new Sampler(params, workspace)) {
            for (int draw = 0; draw < 300; draw++) {
                assertEquals(1, sampler.sample(row).token());
            }
        }
    }

    @Test
    void lowTemperatureConcentratesAndHighTemperatureSpreads() {
        float[] logits = gaussian(new Random(9), vocabSize, 1);
        int top = LlamaReference.argmax(logits);
        logits[top] += 0.5f;
        write(row, logits);
        int[] cold = histogram(0.3f);
        int[] hot = histogram(1.5f);
        double coldEntropy = TestLogits.entropy(cold);
        double hotEntropy = TestLogits.entropy(hot);
        assertTrue(coldEntropy + 1 < hotEntropy, "entropy at 0.3: " + coldEntropy + ", at 1.5: " + hotEntropy);
        assertTrue(histogram(0.01f)[top] >= 1990, "temperature 0.01 should all but always pick the argmax");
    }

    private int[] histogram(float temperature) {
        int[] counts = new int[vocabSize];
        try (Sampler sampler = new Sampler(SamplingParams.builder().temperature(temperature).seed(13).build(), workspace)) {
            for (int draw = 0; draw < 2000; draw++) {
                counts[sampler.sample(row).token()]++;
            }
        }
        return counts;
    }

    @Test
    void seedsFoldToThe32BitsLlamaCppTakes() {
        assertEquals(LlamaSampler.RANDOM_SEED, Seeds.nativeSeed(OptionalLong.empty()));
        assertEquals(0, Seeds.nativeSeed(OptionalLong.of(0)));
        assertEquals(42, Seeds.nativeSeed(OptionalLong.of(42)));
        assertEquals((int) 0xFFFF_FFFEL, Seeds.nativeSeed(OptionalLong.of(0xFFFF_FFFEL)));
        assertNotEquals(LlamaSampler.RANDOM_SEED, Seeds.nativeSeed(OptionalLong.of(0xFFFF_FFFFL)));
        assertNotEquals(LlamaSampler.RANDOM_SEED, Seeds.nativeSeed(OptionalLong.of(-1L)));
        assertNotEquals(Seeds.nativeSeed(OptionalLong.of(1L << 40)), Seeds.nativeSeed(OptionalLong.of(1L << 41)));
    }

    @Test
    void rejectsRowsAndTokensThatDoNotFitTheVocabulary() {
        assertThrows(IllegalArgumentException.class,
                () -> new Sampler(SamplingParams.builder().logitBias(Map.of(vocabSize, 1f)).build(), workspace));
        try (Sampler sampler = new Sampler(SamplingParams.DEFAULTS, workspace)) {
            assertThrows(IllegalArgumentException.class, () -> sampler.sample(arena.allocate(ValueLayout.JAVA_FLOAT, vocabSize - 1)));
            assertThrows(IllegalArgumentException.class, () -> sampler.accept(vocabSize));
            assertThrows(IllegalArgumentException.class, () -> sampler.acceptPrompt(new int[] {1, -1}));
        }
    }

    @Test
    void closesTwiceAndRefusesUseAfterClose() {
        Sampler sampler = new Sampler(SamplingParams.builder().seed(1).topK(40).build(), workspace);
        sampler.sample(write(row, constant(vocabSize, 0f)));
        sampler.close();
        assertDoesNotThrow(sampler::close);
        assertThrows(IllegalStateException.class, () -> sampler.sample(row));
        assertThrows(IllegalStateException.class, () -> sampler.accept(1));
        assertThrows(IllegalStateException.class, () -> sampler.acceptPrompt(new int[] {1}));
    }

    @Test
    void samplersRefuseUseOnceTheirWorkspaceIsClosed() {
        try (Sampler sampler = new Sampler(SamplingParams.DEFAULTS, workspace)) {
            workspace.close();
            assertDoesNotThrow(workspace::close);
            assertThrows(IllegalStateException.class, () -> sampler.sample(write(row, constant(vocabSize, 0f))));
        }
    }
}
