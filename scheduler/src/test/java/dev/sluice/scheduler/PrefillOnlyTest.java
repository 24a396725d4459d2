package dev.sluice.scheduler;

import dev.sluice.engine.sampling.PromptLogprob;
import dev.sluice.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prefill-only sequences (embeddings, {@code max_tokens} 0) and prompt logprobs through the real
 * scheduler and engine loop over the fake model: they batch with generation, sample nothing,
 * end when their prompt has run and give their blocks back at once, read no cached prefix, and a
 * prompt's whole-logits rows are spread over steps.
 */
class PrefillOnlyTest {

    private static int[] prompt(int length, int salt) {
        int[] p = new int[length];
        for (int i = 0; i < length; i++) {
            p[i] = FakeExecutor.FIRST_ORDINARY_TOKEN + (i * 31 + salt) % 3000;
        }
        return p;
    }

    @Test
    void anEmbeddingBatchesWithGenerationAndFreesItsBlocksWhenItsPromptHasRun() {
        SchedulerConfig config = SchedulerConfig.defaults(4096).withMaxBatchedTokens(64);
        try (Harness h = new Harness(64, 16, config)) {
            Request generating = h.submit(prompt(20, 1), SamplingParams.GREEDY, 40, 1);
            h.step();
            h.step();
            int[] text = prompt(150, 2);
            Request embedding = new Request("e", text, SamplingParams.GREEDY, StopConditions.maxTokens(0), 1, 0, 0)
                    .withPromptOutputs(PromptOutputs.embedding());
            h.submit(embedding);
            int steps = 0;
            boolean shared = false;
            while (h.result(embedding) == null && steps++ < 20) {
                h.step();
                shared |= h.executor.lastStepSequences == 2;
            }
            assertTrue(shared, "the embedding's chunks ran next to the decoding sequence");
            assertNotNull(h.result(embedding), "the embedding finished when its prompt had run");
            assertArrayEquals(FakeExecutor.fakeEmbedding(text), embedding.promptOutputs().embeddingResult());
            assertEquals(0, h.result(embedding).usage().completionTokens());
            assertEquals(0, h.output(embedding, 0).length, "it sampled nothing");
            assertNull(h.result(generating), "the generation goes on");
            int generatingBlocks = generating.sequences().getFirst().blocks().size();
            assertEquals(generatingBlocks, h.pool.usedCount(), "the embedding's blocks went back at once");
            h.runUntilIdle(200);
            assertArrayEquals(FakeExecutor.greedy(prompt(20, 1), 40), h.output(generating, 0));
            h.assertNoLeaks();
        }
    }

    @Test
    void anEmbeddingReadsNoCachedPrefix() {
        try (Harness h = new Harness(64, 16, SchedulerConfig.defaults(4096))) {
            int[] text = prompt(100, 3);
            Request warm = h.submit(text, SamplingParams.GREEDY, 1, 1);
            h.runUntilIdle(50);
            assertNotNull(h.result(warm));
            Request embedding = new Request("e", text, SamplingParams.GREEDY, StopConditions.maxTokens(0), 1, 0, 0)
                    .withPromptOutputs(PromptOutputs.embedding());
            h.submit(embedding);
            h.runUntilIdle(50);
            assertEquals(0, h.result(embedding).usage().cachedPromptTokens(), "every row computed");
            assertArrayEquals(FakeExecutor.fakeEmbedding(text), embedding.promptOutputs().embeddingResult());
            h.assertNoLeaks();
        }
    }

    @Test
    void promptLogprobsAreSpreadOverStepsAndDeliveredOnceEach() {
        try (Harness h = new Harness(128, 16, SchedulerConfig.defaults(4096))) {
            int[] text = prompt(700, 4);
            Request scored = new Request("s", text, SamplingParams.GREEDY, StopConditions.maxTokens(0), 1, 0, 0)
                    .withPromptOutputs(PromptOutputs.logprobs(2));
            h.submit(scored);
            int steps = 0;
            while (h.result(scored) == null && steps++ < 20) {
                h.step();
                assertTrue(h.executor.lastStepAllLogitRows <= StepBudget.ALL_ROW_LOGITS_PER_STEP,
                        "whole-logits rows in a step: " + h.executor.lastStepAllLogitRows);
            }
            assertTrue(steps >= 3, "700 rows need 3 steps of 256");
            List<PromptLogprob> got = scored.promptOutputs().logprobsResult();
            assertEquals(699, got.size());
            for (int p = 1; p < 700; p++) {
                assertEquals(text[p], got.get(p - 1).token());
                assertEquals(-p, got.get(p - 1).logprob());
            }
            h.assertNoLeaks();
        }
    }

    @Test
    void generationAfterScoredPromptSamplesAsUsual() {
        try (Harness h = new Harness(64, 16, SchedulerConfig.defaults(4096))) {
            int[] text = prompt(40, 5);
            Request request = new Request("g", text, SamplingParams.GREEDY, StopConditions.maxTokens(7), 1, 0, 0)
                    .withPromptOutputs(PromptOutputs.logprobs(0));
            h.submit(request);
            h.runUntilIdle(50);
            assertArrayEquals(FakeExecutor.greedy(text, 7), h.output(request, 0));
            assertEquals(39, request.promptOutputs().logprobsResult().size());
            h.assertNoLeaks();
        }
    }

    @Test
    void aRequestThatGeneratesNothingHasOneChoice() {
        try (Harness h = new Harness(64, 16, SchedulerConfig.defaults(4096))) {
            Request request = new Request("n", prompt(5, 6), SamplingParams.GREEDY, StopConditions.maxTokens(0), 2, 0, 0);
            assertThrows(RequestRejectedException.class, () -> h.scheduler.validate(request));
        }
    }
}
