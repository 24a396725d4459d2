package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Background work (batch lines) yields compute, not only queue position, to client requests: none
 * of it in a step that prefills a client's prompt, a bounded share of every other step, the whole
 * step when alone, and never starved for long.
 */
class BackgroundPolicyTest {

    private static final SamplingParams GREEDY = SamplingParams.GREEDY;
    private static final int BACKGROUND = BackgroundPolicy.PRIORITY + 400_000;

    private static int[] prompt(int seed, int length) {
        return IntStream.range(0, length).map(i -> FakeExecutor.FIRST_ORDINARY_TOKEN + (seed * 131 + i * 17) % 4000).toArray();
    }

    private static int backgroundTokens(SchedulerStep step) {
        int total = 0;
        List<Sequence> sequences = step.sequences();
        for (int i = 0; i < sequences.size(); i++) {
            if (BackgroundPolicy.isBackground(sequences.get(i))) {
                total += step.newTokens(i);
            }
        }
        return total;
    }

    private static boolean prefillsForeground(SchedulerStep step) {
        List<Sequence> sequences = step.sequences();
        for (int i = 0; i < sequences.size(); i++) {
            if (!BackgroundPolicy.isBackground(sequences.get(i)) && step.newTokens(i) > 1) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aClientPromptIsPrefilledWithoutBackgroundWorkBesideIt() throws InterruptedException {
        SchedulerConfig config = new SchedulerConfig(2048, 64, 4096, true, 0);
        try (Harness h = new Harness(2048, 4, config)) {
            Request[] lines = new Request[40];
            for (int i = 0; i < lines.length; i++) {
                lines[i] = h.submit(prompt(i, 20), GREEDY, StopConditions.maxTokens(60), 1, BACKGROUND);
            }
            h.step();
            assertEquals(40, h.scheduler.lastStep().sequences().size(), "alone, background work takes the whole step");
            h.step();
            assertEquals(40, backgroundTokens(h.scheduler.lastStep()));

            int[] p = prompt(100, 30);
            Request chat = h.submit(p, GREEDY, 8, 1);
            h.step();
            SchedulerStep first = h.scheduler.lastStep();
            assertTrue(prefillsForeground(first), "the chat's prompt runs at once");
            assertEquals(0, backgroundTokens(first), "no background token beside a client prompt");
            int steps = 0;
            while (h.result(chat) == null && steps < 20) {
                h.step();
                steps++;
                int background = backgroundTokens(h.scheduler.lastStep());
                assertTrue(background <= BackgroundPolicy.MAX_TOKENS,
                        "background work gets at most its share beside a client: " + background);
                assertTrue(background > 0 || h.result(chat) != null, "yet it still progresses");
            }
            assertNotNull(h.result(chat));
            assertArrayEquals(FakeExecutor.greedy(p, 8), h.output(chat, 0));

            h.step();
            assertTrue(backgroundTokens(h.scheduler.lastStep()) < 40,
                    "right after the chat, background work still shares (its client may send the next one at once)");
            Thread.sleep(BackgroundPolicy.LINGER_NANOS / 1_000_000 + 50);
            h.step();
            assertEquals(40, backgroundTokens(h.scheduler.lastStep()), "the whole step again once the chat is long done");
            h.runUntilIdle(5000);
            for (Request line : lines) {
                assertEquals(60, h.output(line, 0).length, "every line completed");
            }
            h.assertNoLeaks();
        }
    }

    @Test
    void aCachedClientPromptsLastTokenIsComputedWithoutBackgroundWorkBesideIt() {
        SchedulerConfig config = new SchedulerConfig(2048, 64, 4096, true, 0);
        try (Harness h = new Harness(2048, 4, config)) {
            int[] p = prompt(100, 29); // 7 full blocks of 4, then 1 token
            Request first = h.submit(p, GREEDY, 2, 1);
            h.runUntilIdle(100);
            assertEquals(2, h.output(first, 0).length);
            Harness.sleepMillis(BackgroundPolicy.LINGER_NANOS / 1_000_000 + 50); // the background lines alone take whole steps
            for (int i = 0; i < 20; i++) {
                h.submit(prompt(i, 20), GREEDY, StopConditions.maxTokens(200), 1, BACKGROUND);
            }
            h.step();
            h.step();
            assertEquals(20, backgroundTokens(h.scheduler.lastStep()), "background lines decoding");

            Request again = h.submit(p, GREEDY, 2, 1);
            h.step();
            SchedulerStep step = h.scheduler.lastStep();
            int index = step.sequences().indexOf(again.sequences().getFirst());
            assertTrue(index >= 0, "the repeated prompt runs at once");
            assertEquals(1, step.newTokens(index), "its cached prefix leaves one token to compute");
            assertEquals(0, backgroundTokens(step), "that step gives the client its first token: no background token beside it");
            h.runUntilIdle(10000);
            assertArrayEquals(h.output(first, 0), h.output(again, 0));
            h.assertNoLeaks();
        }
    }

    @Test
    void rightAfterAClientRequestFinishesBackgroundWorkWaitsForTheClientsNextOne() {
        SchedulerConfig config = new SchedulerConfig(2048, 64, 4096, true, 0);
        try (Harness h = new Harness(2048, 4, config)) {
            for (int i = 0; i < 20; i++) {
                h.submit(prompt(i, 20), GREEDY, StopConditions.maxTokens(400), 1, BACKGROUND);
            }
            h.step();
            Request shortChat = h.submit(prompt(100, 12), GREEDY, 3, 1);
            Request longChat = h.submit(prompt(101, 12), GREEDY, 30, 1);
            while (h.result(shortChat) == null) {
                h.step();
            }
            long finished = System.nanoTime();
            h.step();
            boolean withinGrace = System.nanoTime() - finished < BackgroundPolicy.GRACE_NANOS;
            Assumptions.assumeTrue(withinGrace, "this host paused the test past the grace");
            assertTrue(h.scheduler.lastStep().sequences().contains(longChat.sequences().getFirst()), "the other chat decodes");
            assertEquals(0, backgroundTokens(h.scheduler.lastStep()), "no background token while the finished chat's client may send again");

            // Its client's next request arrives within the grace: prefilled in a step of its own.
            Request next = h.submit(prompt(102, 12), GREEDY, 3, 1);
            h.step();
            assertTrue(h.scheduler.lastStep().sequences().contains(next.sequences().getFirst()));
            assertEquals(0, backgroundTokens(h.scheduler.lastStep()));

            while (h.result(longChat) == null || h.result(next) == null) {
                h.step();
            }
            // No client work left: within the grace the engine runs nothing at all.
            finished = System.nanoTime();
            boolean ran = h.step();
            Assumptions.assumeTrue(System.nanoTime() - finished < BackgroundPolicy.GRACE_NANOS, "paused past the grace");
            assertEquals(false, ran, "the engine waits for the client's next request");
            Harness.sleepMillis(BackgroundPolicy.GRACE_NANOS / 1_000_000 + 5);
            assertTrue(h.step(), "after the grace background work runs again");
            assertTrue(backgroundTokens(h.scheduler.lastStep()) > 0);
            h.runUntilIdle(20000);
            h.assertNoLeaks();
        }
    }

    @Test
    void onACpuLikeCostBackgroundTokensLengthenAStepByAtMostTheSlack() {
        BackgroundPolicy policy = new BackgroundPolicy(SchedulerConfig.DEFAULT_BACKGROUND_SLACK);
        assertEquals(BackgroundPolicy.DEFAULT_TOKENS, policy.allowance(true, false, 4, System.nanoTime()), "no fit yet");
        // 2 ms fixed + 1 ms per token: the fixed cost is worth 2 tokens.
        for (int i = 0; i < 100; i++) {
            int tokens = 1 + i % 20;
            policy.observe(tokens, 2_000_000L + 1_000_000L * tokens);
        }
        assertEquals(2.0, policy.fixedCostInTokens(), 1e-6);
        int allowance = policy.allowance(true, false, 10, System.nanoTime());
        assertEquals((int) (policy.slack() * 12), allowance);
        double without = 2 + 10;
        double with = 2 + 10 + allowance;
        assertTrue(with <= (1 + policy.slack()) * without, with + " vs " + without);
        assertEquals(0, policy.allowance(true, true, 10, System.nanoTime()), "none beside a client prompt");
        assertEquals(Integer.MAX_VALUE, policy.allowance(false, false, 0, System.nanoTime()), "everything when alone");
    }

    @Test
    void onAGpuLikeCostBackgroundWorkRidesAlongAlmostFree() {
        BackgroundPolicy policy = new BackgroundPolicy(SchedulerConfig.DEFAULT_BACKGROUND_SLACK);
        // 20 ms to read the weights once, 20 us per token: decode steps cost about the same at 1 or 64 tokens.
        for (int i = 0; i < 100; i++) {
            int tokens = 1 + i % 64;
            policy.observe(tokens, 20_000_000L + 20_000L * tokens);
        }
        assertEquals(1000.0, policy.fixedCostInTokens(), 1e-3);
        assertEquals(BackgroundPolicy.MAX_TOKENS, policy.allowance(true, false, 4, System.nanoTime()));
    }

    @Test
    void aStreamOfClientPromptsDoesNotStarveBackgroundWork() {
        SchedulerConfig config = new SchedulerConfig(2048, 64, 4096, true, 0);
        try (Harness h = new Harness(2048, 4, config)) {
            Request line = h.submit(prompt(1, 10), GREEDY, StopConditions.maxTokens(1000), 1, BACKGROUND);
            h.step();
            int held = 0;
            int maxHeld = 0;
            for (int i = 0; i < 60; i++) {
                h.submit(prompt(200 + i, 40), GREEDY, 2, 1); // a new client prompt every step
                h.step();
                held = backgroundTokens(h.scheduler.lastStep()) == 0 ? held + 1 : 0;
                maxHeld = Math.max(maxHeld, held);
            }
            assertTrue(maxHeld <= BackgroundPolicy.MAX_HELD_STEPS, "held back " + maxHeld + " steps in a row");
            assertTrue(h.output(line, 0).length >= 60 / (BackgroundPolicy.MAX_HELD_STEPS + 1),
                    "the line progressed: " + h.output(line, 0).length + " tokens");
            h.runUntilIdle(5000);
            h.assertNoLeaks();
        }
    }

    @Test
    void aClientRequestTakesKvFromBackgroundWorkInsteadOfWaiting() {
        // 48 blocks of 4 tokens; after 6 steps 8 background lines hold 5 blocks each, leaving 8.
        SchedulerConfig config = new SchedulerConfig(2048, 64, 4096, true, 0);
        try (Harness h = new Harness(48, 4, config)) {
            for (int i = 0; i < 8; i++) {
                h.submit(prompt(i, 12), GREEDY, StopConditions.maxTokens(40), 1, BACKGROUND);
            }
            for (int i = 0; i < 6; i++) {
                h.step();
            }
            int[] p = prompt(300, 40);
            Request chat = h.submit(p, GREEDY, 4, 1);
            assertTrue(h.pool.freeCount() < 11, "the chat's 11 blocks are not free: " + h.pool.freeCount());
            h.step();
            assertEquals(SequenceStatus.RUNNING, chat.sequences().getFirst().status(),
                    "admitted at once: background sequences gave up their blocks");
            h.runUntilIdle(20000);
            assertArrayEquals(FakeExecutor.greedy(p, 4), h.output(chat, 0));
            h.assertNoLeaks();
        }
    }
}
