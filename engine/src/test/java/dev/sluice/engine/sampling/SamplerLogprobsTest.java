package dev.sluice.engine.sampling;

import dev.sluice.bindings.llama.LlamaModel;
import dev.sluice.bindings.llama.LlamaReference;
import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.sluice.engine.sampling.TestLogits.constant;
import static dev.sluice.engine.sampling.TestLogits.gaussian;
import static dev.sluice.engine.sampling.TestLogits.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Logprobs are the log-softmax of the raw logits, whatever the processing did to choose. */
class SamplerLogprobsTest {

    private static final double TOLERANCE = 1e-4;

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
    void chosenAndTopLogprobsAreTheLogSoftmaxOfTheRawLogits() {
        Random random = new Random(21);
        SamplingParams params = SamplingParams.builder().temperature(0.7f).topP(0.9f).seed(3)
                .frequencyPenalty(0.5f).logprobs(5).build();
        try (Sampler sampler = new Sampler(params, workspace)) {
            for (int step = 0; step < 30; step++) {
                float[] logits = gaussian(random, vocabSize, 2);
                SampledToken sampled = sampler.sample(write(row, logits));
                sampler.accept(sampled.token());
                double[] expected = TestLogits.logSoftmax(logits);
                assertEquals(expected[sampled.token()], sampled.logprob(), TOLERANCE);
                int[] ranking = TestLogits.ranking(logits);
                List<TokenLogprob> top = sampled.topLogprobs();
                assertEquals(5, top.size());
                assertEquals(LlamaReference.argmax(logits), top.getFirst().token());
                for (int i = 0; i < top.size(); i++) {
                    assertEquals(ranking[i], top.get(i).token());
                    assertEquals(expected[ranking[i]], top.get(i).logprob(), TOLERANCE);
                    if (i > 0) {
                        assertTrue(top.get(i - 1).logprob() >= top.get(i).logprob(), "sorted descending: " + top);
                    }
                }
            }
        }
    }

    @Test
    void probabilitiesOfTheWholeDistributionSumToOne() {
        // Twenty tokens hold all the mass, so the top twenty are the whole distribution.
        Random random = new Random(22);
        float[] logits = constant(vocabSize, -1e4f);
        for (int i = 0; i < 20; i++) {
            logits[random.nextInt(vocabSize)] = (float) (random.nextGaussian() * 3);
        }
        try (Sampler sampler = new Sampler(SamplingParams.builder().seed(1).logprobs(20).build(), workspace)) {
            SampledToken sampled = sampler.sample(write(row, logits));
            double sum = sampled.topLogprobs().stream().mapToDouble(t -> Math.exp(t.logprob())).sum();
            assertEquals(1.0, sum, TOLERANCE);
            assertTrue(sampled.topLogprobs().stream().anyMatch(t -> t.token() == sampled.token()));
        }
    }

    @Test
    void greedyFastPathReportsTheSameLogprobs() {
        float[] logits = gaussian(new Random(23), vocabSize, 2);
        double[] expected = TestLogits.logSoftmax(logits);
        try (Sampler sampler = new Sampler(SamplingParams.GREEDY.toBuilder().logprobs(3).build(), workspace)) {
            SampledToken sampled = sampler.sample(write(row, logits));
            assertEquals(LlamaReference.argmax(logits), sampled.token());
            assertEquals(expected[sampled.token()], sampled.logprob(), TOLERANCE);
            assertEquals(sampled.token(), sampled.topLogprobs().getFirst().token());
            assertEquals(3, sampled.topLogprobs().size());
        }
    }

    @Test
    void aBiasedTokenReportsItsUnbiasedLogprob() {
        float[] logits = gaussian(new Random(24), vocabSize, 2);
        int forced = TestLogits.ranking(logits)[vocabSize - 1];
        SamplingParams params = SamplingParams.builder().seed(2).logitBias(Map.of(forced, 100f)).logprobs(0).build();
        try (Sampler sampler = new Sampler(params, workspace)) {
            SampledToken sampled = sampler.sample(write(row, logits));
            assertEquals(forced, sampled.token());
            assertEquals(TestLogits.logSoftmax(logits)[forced], sampled.logprob(), TOLERANCE);
            assertTrue(sampled.logprob() < -10, "the model's own view of its least likely token");
            assertTrue(sampled.topLogprobs().isEmpty());
        }
    }

    @Test
    void noLogprobsUnlessAsked() {
        try (Sampler sampler = new Sampler(SamplingParams.DEFAULTS, workspace)) {
            SampledToken sampled = sampler.sample(write(row, gaussian(new Random(25), vocabSize, 1)));
            assertTrue(Float.isNaN(sampled.logprob()));
            assertTrue(sampled.topLogprobs().isEmpty());
        }
    }
}
