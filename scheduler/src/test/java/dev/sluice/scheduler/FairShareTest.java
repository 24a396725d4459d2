package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One request cannot take the engine from the others: its choices get a share of each step's
 * sequences before anyone gets more, a prompt chunk leaves tokens for waiting requests, and a
 * stream nobody reads is the first to give up its blocks and is cancelled after a while.
 */
class FairShareTest {

    private static final SamplingParams GREEDY = SamplingParams.GREEDY;

    private static int[] prompt(int seed, int length) {
        return IntStream.range(0, length).map(i -> FakeExecutor.FIRST_ORDINARY_TOKEN + (seed * 131 + i * 17) % 4000).toArray();
    }

    @Test
    void aRequestWithManyChoicesLeavesRoomForTheNextRequest() {
        // 8 sequences per step; one request may take 2 of them before others get theirs.
        SchedulerConfig config = new SchedulerConfig(2048, 8, 4096, true, 0, 0.25);
        try (Harness h = new Harness(512, 4, config)) {
            Request big = h.submit(prompt(1, 8), GREEDY, 200, 8);
            h.step(); // prefill and fork: 8 running sequences fill the step
            assertEquals(8, big.sequences().size());
            int[] p = prompt(2, 6);
            Request probe = h.submit(p, GREEDY, 4, 1);
            int steps = 0;
            while (h.result(probe) == null && steps < 20) {
                h.step();
                steps++;
            }
            assertNotNull(h.result(probe), "the probe finished while the big request ran");
            assertTrue(steps <= 6, "admitted at once and decoded every step, took " + steps + " steps");
            assertNull(h.result(big), "the big request is still running");
            assertArrayEquals(FakeExecutor.greedy(p, 4), h.output(probe, 0));
            h.runUntilIdle(1000);
            for (int i = 0; i < 8; i++) {
                assertEquals(200, h.output(big, i).length, "the big request's choices all completed");
            }
            h.assertNoLeaks();
        }
    }

    @Test
    void aRequestAloneStillGetsTheWholeStep() {
        SchedulerConfig config = new SchedulerConfig(2048, 8, 4096, true, 0, 0.25);
        try (Harness h = new Harness(512, 4, config)) {
            Request big = h.submit(prompt(3, 8), GREEDY, 50, 8);
            h.step();
            h.step();
            assertEquals(8, h.scheduler.lastStep().sequences().size(), "all 8 choices decode in one step");
            h.runUntilIdle(1000);
            assertNotNull(h.result(big));
            h.assertNoLeaks();
        }
    }

    @Test
    void aLongPromptLeavesTokensForARequestWaitingBehindIt() {
        // 64 tokens per step; while others wait, one prompt chunk takes at most 16.
        SchedulerConfig config = new SchedulerConfig(64, 8, 4096, true, 0, 0.25);
        try (Harness h = new Harness(512, 4, config)) {
            Request first = h.submit(prompt(4, 600), GREEDY, 4, 1);
            Request second = h.submit(prompt(5, 600), GREEDY, 4, 1);
            h.step();
            assertEquals(2, h.scheduler.lastStep().sequences().size(), "both prompts make progress in the first step");
            assertEquals(SequenceStatus.RUNNING, second.sequences().getFirst().status());
            h.runUntilIdle(1000);
            assertNotNull(h.result(first));
            assertNotNull(h.result(second));
            h.assertNoLeaks();
        }
    }

    @Test
    void whileOthersWaitOnlyALongPromptIsCutToItsShare() {
        // 64 tokens per step, a share of 16: prompts of up to 32 tokens are taken whole, longer ones 16 at a time.
        SchedulerConfig config = new SchedulerConfig(64, 8, 4096, true, 0, 0.25);
        assertEquals(16, config.requestTokenCap());
        assertEquals(32, config.promptChunkCap(32));
        assertEquals(16, config.promptChunkCap(33));
        try (Harness h = new Harness(512, 4, config)) {
            Request shortOne = h.submit(prompt(11, 30), GREEDY, 4, 1);
            Request longOne = h.submit(prompt(12, 40), GREEDY, 4, 1);
            Request last = h.submit(prompt(13, 30), GREEDY, 4, 1);
            h.step();
            SchedulerStep step = h.scheduler.lastStep();
            assertEquals(3, step.sequences().size());
            assertEquals(30, step.newTokens(step.sequences().indexOf(shortOne.sequences().getFirst())), "whole: it is short");
            assertEquals(16, step.newTokens(step.sequences().indexOf(longOne.sequences().getFirst())), "its share: others wait");
            assertEquals(18, step.newTokens(step.sequences().indexOf(last.sequences().getFirst())), "what the step has left");
            h.runUntilIdle(1000);
            assertNotNull(h.result(shortOne));
            assertNotNull(h.result(longOne));
            assertNotNull(h.result(last));
            h.assertNoLeaks();
        }
    }

    @Test
    void aStreamNobodyReadsIsPreemptedBeforeOthers() {
        // 12 blocks of 4 tokens; three requests; the oldest one's client stops reading.
        SchedulerConfig config = new SchedulerConfig(2048, 8, 4096, true, 0, 1.0);
        try (Harness h = new Harness(12, 4, config)) {
            Request stalled = new Request("stalled", prompt(6, 7), GREEDY, StopConditions.maxTokens(40), 1, 0, 0, 1);
            h.loop.submit(stalled); // never read; backed up after its first token
            Request b = h.submit(prompt(7, 7), GREEDY, 40, 1);
            Request c = h.submit(prompt(8, 7), GREEDY, 40, 1);
            for (int i = 0; i < 200 && h.metrics.preemptions() == 0; i++) {
                h.step();
            }
            assertEquals(1, h.metrics.preemptions(), "blocks ran short");
            assertTrue(stalled.stream().isBackedUp());
            assertEquals(SequenceStatus.WAITING, stalled.sequences().getFirst().status(),
                    "the paused stream gave up its blocks first, though it arrived first");
            assertEquals(SequenceStatus.RUNNING, b.sequences().getFirst().status());
            assertEquals(SequenceStatus.RUNNING, c.sequences().getFirst().status(), "not the newest, as it would be otherwise");
            h.runUntilIdle(1000);
            assertNotNull(h.result(b));
            assertNotNull(h.result(c));
            stalled.cancel();
            h.runUntilIdle(10);
            h.assertNoLeaks();
        }
    }

    @Test
    void aClientThatStopsReadingIsCancelledAfterTheTimeout() throws InterruptedException {
        EngineLoop.Limits limits = new EngineLoop.Limits(Duration.ofMillis(50), Duration.ofMinutes(2));
        try (Harness h = new Harness(128, 4, new SchedulerConfig(2048, 8, 4096, true, 0), limits)) {
            Request silent = new Request("silent", prompt(9, 7), GREEDY, StopConditions.maxTokens(200), 1, 0, 0, 64);
            h.loop.submit(silent); // never read
            Request reader = h.submit(prompt(10, 7), GREEDY, 10, 1);
            for (int i = 0; i < 20; i++) {
                h.step();
            }
            assertTrue(h.pool.usedCount() > 0);
            assertTrue(!silent.sequences().getFirst().isFinished());
            Thread.sleep(80);
            h.step();
            assertEquals(FinishReason.CANCELLED, silent.sequences().getFirst().finishReason());
            assertEquals(1, h.metrics.stalledClientsCancelled.sum());
            assertNotNull(h.result(reader), "a client that reads is not touched");
            h.runUntilIdle(10);
            h.assertNoLeaks();
        }
    }
}
