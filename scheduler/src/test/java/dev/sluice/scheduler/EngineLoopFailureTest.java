package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvCacheManager;
import dev.sluice.scheduler.metrics.EngineMetrics;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a failure takes down: one request, one step, or (only when it must) the engine. */
class EngineLoopFailureTest {

    private static final SamplingParams GREEDY = SamplingParams.GREEDY;

    private static int[] prompt(int seed, int length) {
        return IntStream.range(0, length).map(i -> FakeExecutor.FIRST_ORDINARY_TOKEN + (seed * 131 + i * 17) % 4000).toArray();
    }

    private static SchedulerConfig config() {
        return new SchedulerConfig(2048, 16, 4096, true, 0);
    }

    @Test
    void aRequestWhoseSetupFailsFailsAloneAndTheNextOneWorks() {
        try (Harness h = new Harness(64, 4, config())) {
            // A logit bias on a token outside the vocabulary: the request's sampler cannot be built.
            SamplingParams bad = SamplingParams.builder().logitBias(Map.of(10_000_000, 1f)).build();
            Request broken = h.submit(prompt(1, 6), bad, 8, 1);
            int[] p = prompt(2, 6);
            Request fine = h.submit(p, GREEDY, 8, 1);
            h.runUntilIdle(100);
            assertNotNull(h.result(broken).error(), "the broken request got an error");
            assertArrayEquals(FakeExecutor.greedy(p, 8), h.output(fine, 0));
            assertTrue(h.loop.health().live());
            assertEquals(0, h.loop.pendingRequests());
            h.assertNoLeaks();
        }
    }

    @Test
    void aFailedStepFailsItsRequestsAndTheLoopGoesOn() {
        try (Harness h = new Harness(64, 4, config())) {
            Request a = h.submit(prompt(3, 6), GREEDY, 8, 2);
            Request b = h.submit(prompt(4, 6), GREEDY, 8, 1);
            h.executor.failNextForward = new IllegalStateException("injected: the kernel failed");
            h.step();
            assertTrue(h.result(a).error().contains("injected"), h.result(a).error());
            assertTrue(h.result(b).error().contains("injected"));
            assertEquals(1, h.metrics.stepFailures.sum());
            int[] p = prompt(5, 6);
            Request next = h.submit(p, GREEDY, 8, 1);
            h.runUntilIdle(100);
            assertArrayEquals(FakeExecutor.greedy(p, 8), h.output(next, 0));
            assertTrue(h.loop.health().live());
            assertEquals(0, h.loop.pendingRequests());
            h.assertNoLeaks();
        }
    }

    @Test
    void stepsThatKeepFailingStopTheEngineAndSaySo() {
        try (Harness h = new Harness(64, 4, config())) {
            for (int i = 0; i < EngineLoop.MAX_CONSECUTIVE_STEP_FAILURES - 1; i++) {
                h.executor.failNextForward = new IllegalStateException("injected " + i);
                Request r = h.submit(prompt(10 + i, 6), GREEDY, 4, 1);
                h.step();
                assertNotNull(h.result(r).error());
                assertTrue(h.loop.health().live(), "a failed step alone does not stop the engine");
            }
            h.executor.failNextForward = new IllegalStateException("injected last");
            h.submit(prompt(20, 6), GREEDY, 4, 1);
            assertThrows(RuntimeException.class, h::step);
            EngineLoop.Health health = h.loop.health();
            assertFalse(health.live());
            assertTrue(health.reason().contains("injected last"), health.reason());
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> h.submit(prompt(21, 6), GREEDY, 4, 1));
            assertTrue(refused.getMessage().contains("internal error"));
        }
    }

    @Test
    void anErrorOfTheJvmStopsTheLoopFailsEveryRequestAndTellsTheListener() throws Exception {
        BlockPool pool = new BlockPool(64);
        KvCacheManager kv = new KvCacheManager(pool, 4, true);
        Scheduler scheduler = new Scheduler(config(), kv);
        FakeExecutor executor = new FakeExecutor(64, 4, 0, Harness.VOCAB);
        EngineLoop loop = new EngineLoop(scheduler, () -> executor, Harness.texts(), new EngineMetrics(),
                EngineLoop.Limits.DEFAULT);
        CountDownLatch told = new CountDownLatch(1);
        loop.onFailure(told::countDown);
        executor.errorOnForward = new OutOfMemoryError("injected: out of memory");
        ComputeLane lane = ComputeLane.start("test");
        lane.attach(loop);
        try {
            Request r = loop.submit(new Request("r", prompt(30, 6), GREEDY, StopConditions.maxTokens(4), 1, 0, 0));
            assertTrue(told.await(30, TimeUnit.SECONDS), "the failure listener ran");
            RequestUpdate update = r.stream().next(30, TimeUnit.SECONDS);
            while (update != null && !update.done()) {
                update = r.stream().next(30, TimeUnit.SECONDS);
            }
            assertNotNull(update);
            assertTrue(update.error().contains("out of memory"), update.error());
            EngineLoop.Health health = loop.health();
            assertFalse(health.live());
            assertTrue(health.reason().contains("out of memory"), health.reason());
            assertEquals(0, loop.pendingRequests());
            assertEquals(pool.size(), pool.freeCount(), "its blocks were returned");
        } finally {
            lane.close();
            executor.close();
        }
    }
}
