package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scheduling behaviour over the fake executor: fast, deterministic, no model. */
class SchedulerTest {

    private static final SamplingParams GREEDY = SamplingParams.GREEDY;

    private static int[] prompt(int seed, int length) {
        return IntStream.range(0, length).map(i -> FakeExecutor.FIRST_ORDINARY_TOKEN + (seed * 131 + i * 17) % 4000).toArray();
    }

    private static SchedulerConfig config(int maxBatched, int swapBlocks) {
        return new SchedulerConfig(maxBatched, 256, 4096, true, swapBlocks);
    }

    @Test
    void greedyOutputIsTheFakesContinuation() {
        try (Harness h = new Harness(64, 4, config(2048, 0))) {
            int[] p = prompt(1, 10);
            Request r = h.submit(p, GREEDY, 12, 1);
            h.runUntilIdle(100);
            assertArrayEquals(FakeExecutor.greedy(p, 12), h.output(r, 0));
            RequestUpdate result = h.result(r);
            assertNotNull(result);
            assertEquals(FinishReason.LENGTH, r.sequences().getFirst().finishReason());
            assertEquals(10, result.usage().promptTokens());
            assertEquals(12, result.usage().completionTokens());
            h.assertNoLeaks();
        }
    }

    @Test
    void aSharedPrefixIsComputedOnce() {
        try (Harness h = new Harness(64, 4, config(2048, 0))) {
            int[] shared = prompt(2, 12); // three full blocks
            int[] first = concat(shared, prompt(3, 5));
            int[] second = concat(shared, prompt(4, 7));
            Request a = h.submit(first, GREEDY, 4, 1);
            h.runUntilIdle(100);
            int usedBefore = h.pool.usedCount();
            assertEquals(0, usedBefore, "finished requests hold no blocks");
            assertTrue(h.pool.cachedCount() >= 3, "its full blocks stay cached");

            Request b = h.submit(second, GREEDY, 4, 1);
            h.step();
            assertEquals(7, h.executor.lastStepTokens, "only the 7-token tail is computed");
            h.runUntilIdle(100);
            assertEquals(12, h.result(b).usage().cachedPromptTokens());
            assertEquals(0, h.result(a).usage().cachedPromptTokens());
            assertArrayEquals(FakeExecutor.greedy(second, 4), h.output(b, 0));
            assertEquals(12, h.metrics.prefixCacheHitTokens());
            h.assertNoLeaks();
        }
    }

    @Test
    void twoConcurrentRequestsShareThePrefixBlocks() {
        try (Harness h = new Harness(64, 4, config(2048, 0))) {
            int[] shared = prompt(5, 12);
            Request a = h.submit(concat(shared, prompt(6, 3)), GREEDY, 20, 1);
            h.step(); // a's prompt is computed and its three full blocks cached
            Request b = h.submit(concat(shared, prompt(7, 3)), GREEDY, 20, 1);
            h.step();
            Sequence sa = a.sequences().getFirst();
            Sequence sb = b.sequences().getFirst();
            for (int i = 0; i < 3; i++) {
                assertEquals(sa.blocks().get(i).id(), sb.blocks().get(i).id(), "block " + i + " is shared");
                assertEquals(2, sa.blocks().get(i).refCount());
            }
            h.runUntilIdle(200);
            assertTrue(FakeExecutor.isConsistent(concat(shared, prompt(6, 3)), h.output(a, 0)));
            assertTrue(FakeExecutor.isConsistent(concat(shared, prompt(7, 3)), h.output(b, 0)));
            h.assertNoLeaks();
        }
    }

    @Test
    void chunkedPrefillRespectsTheBudgetAndKeepsDecodesFlowing() {
        try (Harness h = new Harness(256, 4, config(16, 0))) {
            Request decoding = h.submit(prompt(8, 5), GREEDY, 40, 1);
            h.step();
            h.step();
            int before = h.output(decoding, 0).length;
            Request longPrompt = h.submit(prompt(9, 100), GREEDY, 3, 1);
            int steps = 0;
            while (h.result(longPrompt) == null) {
                h.step();
                steps++;
                assertTrue(h.executor.lastStepTokens <= 16, "step ran " + h.executor.lastStepTokens + " tokens");
                if (h.result(decoding) == null) {
                    assertEquals(before + steps, h.output(decoding, 0).length, "the decode advanced every step");
                }
            }
            assertTrue(steps >= 100 / 15, "the prompt was split over " + steps + " steps");
            h.runUntilIdle(100);
            assertArrayEquals(FakeExecutor.greedy(prompt(9, 100), 3), h.output(longPrompt, 0));
            assertArrayEquals(FakeExecutor.greedy(prompt(8, 5), 40), h.output(decoding, 0));
            h.assertNoLeaks();
        }
    }

    @Test
    void aPromptIsPrefilledInChunksOfAtMostMaxPromptChunkWhateverElseTheStepHolds() {
        try (Harness h = new Harness(256, 4, config(2048, 0).withMaxPromptChunk(64))) {
            int[] alone = prompt(20, 200);
            Request a = h.submit(alone, GREEDY, 3, 1);
            List<Integer> steps = new ArrayList<>();
            while (h.result(a) == null) {
                h.step();
                steps.add(h.executor.lastStepTokens);
            }
            assertEquals(List.of(64, 64, 64, 8, 1, 1), steps, "alone, with the whole budget free: still chunks of 64");
            assertArrayEquals(FakeExecutor.greedy(alone, 3), h.output(a, 0));

            Request decoding = h.submit(prompt(21, 5), GREEDY, 40, 1);
            h.step();
            Request first = h.submit(prompt(22, 100), GREEDY, 2, 1);
            Request second = h.submit(prompt(23, 100), GREEDY, 2, 1);
            h.step();
            assertEquals(1 + 64 + 64, h.executor.lastStepTokens, "a decode and one chunk of each prompt");
            h.step();
            assertEquals(1 + 36 + 36, h.executor.lastStepTokens, "the rest of each prompt");
            h.runUntilIdle(200);
            assertArrayEquals(FakeExecutor.greedy(prompt(22, 100), 2), h.output(first, 0));
            assertArrayEquals(FakeExecutor.greedy(prompt(23, 100), 2), h.output(second, 0));
            assertArrayEquals(FakeExecutor.greedy(prompt(21, 5), 40), h.output(decoding, 0));
            h.assertNoLeaks();
        }
        try (Harness h = new Harness(256, 4, config(2048, 0))) {
            h.submit(prompt(20, 200), GREEDY, 3, 1);
            h.step();
            assertEquals(200, h.executor.lastStepTokens, "no chunk limit of its own: the budget decides");
        }
    }

    @Test
    void nEqualsTwoSharesThePromptAndCopiesOnWrite() {
        try (Harness h = new Harness(64, 4, config(2048, 0))) {
            int[] p = prompt(10, 6); // one full block and a shared partial one
            SamplingParams sampled = SamplingParams.builder().temperature(1f).seed(7).build();
            Request r = h.submit(p, sampled, 16, 2);
            h.step();
            assertEquals(2, r.sequences().size());
            assertEquals(r.sequences().get(0).blocks().get(0).id(), r.sequences().get(1).blocks().get(0).id());
            h.runUntilIdle(100);
            assertTrue(h.executor.copies >= 1, "the shared partial block was copied before a write");
            int[] a = h.output(r, 0);
            int[] b = h.output(r, 1);
            assertEquals(16, a.length);
            assertEquals(16, b.length);
            assertTrue(FakeExecutor.isConsistent(p, a), "choice 0 read its own KV");
            assertTrue(FakeExecutor.isConsistent(p, b), "choice 1 read its own KV");
            assertFalse(java.util.Arrays.equals(a, b), "different draws");
            assertEquals(32, h.result(r).usage().completionTokens());
            h.assertNoLeaks();
        }
    }

    @Test
    void preemptionByRecomputeResumesWithTheSameOutput() {
        preemptAndCompare(0);
    }

    @Test
    void preemptionBySwapResumesWithTheSameOutput() {
        preemptAndCompare(64);
    }

    private void preemptAndCompare(int swapBlocks) {
        try (Harness h = new Harness(12, 4, config(2048, swapBlocks))) { // 48 slots for 4 × (6 + 14)
            List<Request> requests = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                requests.add(h.submit(prompt(20 + i, 6), GREEDY, 14, 1));
            }
            h.runUntilIdle(500);
            assertTrue(h.scheduler.preemptions() > 0, "the pool was too small for all four");
            if (swapBlocks > 0) {
                assertTrue(h.executor.swapOuts > 0 && h.executor.swapIns > 0, "swapped out and back in");
            } else {
                assertEquals(0, h.executor.swapOuts);
            }
            for (int i = 0; i < 4; i++) {
                assertArrayEquals(FakeExecutor.greedy(prompt(20 + i, 6), 14), h.output(requests.get(i), 0), "request " + i);
            }
            h.assertNoLeaks();
        }
    }

    @Test
    void cancellationFreesBlocksWithinOneStep() {
        try (Harness h = new Harness(64, 4, config(2048, 0))) {
            Request r = h.submit(prompt(30, 20), GREEDY, 100, 1);
            h.step();
            h.step();
            assertTrue(h.pool.usedCount() > 0);
            r.cancel();
            h.step();
            assertEquals(0, h.pool.usedCount());
            assertEquals(FinishReason.CANCELLED, r.sequences().getFirst().finishReason());
            assertTrue(h.result(r).done());
            int produced = h.output(r, 0).length;
            h.runUntilIdle(10);
            assertEquals(produced, h.output(r, 0).length, "no output after cancellation");
            h.assertNoLeaks();
        }
    }

    @Test
    void aRequestPastItsDeadlineEndsWithItsOutputAndFreesItsBlocks() throws InterruptedException {
        try (Harness h = new Harness(64, 4, config(2048, 0))) {
            int[] p = prompt(31, 10);
            Request r = h.submit(p, GREEDY, 200, 1);
            r.withTimeout(java.time.Duration.ofMillis(50));
            h.step();
            h.step();
            assertTrue(h.pool.usedCount() > 0);
            Thread.sleep(80);
            h.step();
            assertEquals(FinishReason.TIMEOUT, r.sequences().getFirst().finishReason());
            assertEquals("length", FinishReason.TIMEOUT.openAiName());
            assertEquals(0, h.pool.usedCount());
            RequestUpdate result = h.result(r);
            assertTrue(result.done());
            assertEquals(null, result.error());
            int[] out = h.output(r, 0);
            assertTrue(out.length >= 2, "the tokens generated before the deadline are kept");
            assertArrayEquals(FakeExecutor.greedy(p, out.length), out);
            assertEquals(out.length, result.usage().completionTokens());
            assertEquals(1, h.metrics.requestsTimedOut.sum());
            h.assertNoLeaks();
        }
    }

    @Test
    void aDeadlineBeforeTheForkEndsEveryChoice() throws InterruptedException {
        try (Harness h = new Harness(64, 4, config(2048, 0))) {
            Request r = h.submit(prompt(32, 10), GREEDY, 20, 3);
            r.withTimeout(java.time.Duration.ofMillis(1));
            Thread.sleep(5);
            h.runUntilIdle(10);
            RequestUpdate result = h.result(r);
            assertNotNull(result, "the request ended");
            assertEquals(1, r.sequences().size(), "it never reached the fork");
            assertEquals(3, result.deltas().size(), "every choice gets its finish reason");
            for (SequenceDelta delta : result.deltas()) {
                assertEquals(FinishReason.TIMEOUT, delta.finishReason());
            }
            h.assertNoLeaks();
        }
    }

    @Test
    void pendingRequestsCountsEveryRequestFromSubmissionToCompletion() {
        try (Harness h = new Harness(64, 4, config(2048, 0))) {
            Request a = h.submit(prompt(60, 5), GREEDY, 3, 1);
            Request b = h.submit(prompt(61, 5), GREEDY, 6, 1);
            assertEquals(2, h.loop.pendingRequests(), "counted before the engine thread sees them");
            h.step();
            assertEquals(2, h.loop.pendingRequests(), "counted while running");
            while (h.result(a) == null) {
                h.step();
            }
            assertEquals(1, h.loop.pendingRequests());
            b.cancel();
            h.step();
            assertEquals(0, h.loop.pendingRequests());
        }
    }

    @Test
    void impossibleRequestsAreRejectedBeforeAnyWork() {
        try (Harness h = new Harness(8, 4, new SchedulerConfig(2048, 256, 64, true, 0))) {
            RequestRejectedException tooLong = assertThrows(RequestRejectedException.class,
                    () -> h.submit(prompt(40, 40), GREEDY, 30, 1));
            assertTrue(tooLong.getMessage().contains("64") && tooLong.getMessage().contains("70"), tooLong.getMessage());
            RequestRejectedException noRoom = assertThrows(RequestRejectedException.class,
                    () -> h.submit(prompt(41, 20), GREEDY, 20, 1)); // 40 tokens > 32 slots
            assertTrue(noRoom.getMessage().contains("32"), noRoom.getMessage());
            assertEquals(0, h.executor.forwardCalls);
            assertFalse(h.scheduler.hasWork());
        }
    }

    @Test
    void aSlowConsumerPausesOnlyItsOwnRequest() {
        try (Harness h = new Harness(256, 4, config(2048, 0))) {
            Request slow = new Request("slow", prompt(50, 4), GREEDY, StopConditions.maxTokens(500), 1, 0, 0, 200);
            h.loop.submit(slow); // never read by the harness
            Request fast = h.submit(prompt(51, 4), GREEDY, 300, 1);
            for (int i = 0; i < 400 && h.result(fast) == null; i++) {
                h.step();
            }
            assertNotNull(h.result(fast), "the fast request finished while the slow one was paused");
            assertTrue(slow.stream().isBackedUp(), "the unread stream filled up");
            int generated = slow.sequences().getFirst().outputLength();
            h.step();
            assertEquals(generated, slow.sequences().getFirst().outputLength(), "paused: no progress while backed up");
            slow.cancel();
            h.runUntilIdle(10);
            h.assertNoLeaks();
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
