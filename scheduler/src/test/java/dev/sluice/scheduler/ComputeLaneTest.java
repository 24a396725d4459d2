package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvCacheManager;
import dev.sluice.scheduler.metrics.EngineMetrics;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Several engines on one lane: they take turns by demand, detach cleanly, and fail alone. */
class ComputeLaneTest {

    /** An engine loop over the fake executor, as EngineService builds one. */
    private static final class FakeEngine {
        final BlockPool pool = new BlockPool(4096);
        final FakeExecutor executor = new FakeExecutor(4096, 4, 0, Harness.VOCAB);
        final EngineLoop loop;

        FakeEngine() {
            Scheduler scheduler = new Scheduler(new SchedulerConfig(2048, 64, 4096, true, 0),
                    new KvCacheManager(pool, 4, true));
            loop = new EngineLoop(scheduler, () -> executor, Harness.texts(), new EngineMetrics(), EngineLoop.Limits.DEFAULT);
        }

        Request submit(int seed, int maxTokens) {
            int[] prompt = IntStream.range(0, 8).map(i -> FakeExecutor.FIRST_ORDINARY_TOKEN + (seed * 31 + i * 7) % 4000).toArray();
            return loop.submit(new Request("r" + seed, prompt, SamplingParams.GREEDY, StopConditions.maxTokens(maxTokens), 1, 0, 0));
        }
    }

    private static RequestUpdate await(Request request) throws InterruptedException {
        RequestUpdate update;
        do {
            update = request.stream().next(30, TimeUnit.SECONDS);
        } while (update != null && !update.done());
        return update;
    }

    @Test
    void twoEnginesTakeTurnsSoEveryRequestGetsTheSameTokenRate() throws Exception {
        FakeEngine busy = new FakeEngine();
        FakeEngine quiet = new FakeEngine();
        busy.executor.delayMillis = 1;
        quiet.executor.delayMillis = 1;
        try (ComputeLane lane = ComputeLane.start("test")) {
            lane.attach(busy.loop);
            lane.attach(quiet.loop);
            List<Request> many = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                many.add(busy.submit(i, 300));
            }
            Request one = quiet.submit(99, 300);
            // While both have work they alternate: each step batches all of an engine's requests, so
            // the one request of the quiet engine advances as fast as each of the busy one's three.
            Thread.sleep(200);
            int busySteps = busy.executor.forwardCalls;
            int quietSteps = quiet.executor.forwardCalls;
            assertTrue(quietSteps > 20, "both engines run: " + busySteps + " vs " + quietSteps);
            assertTrue(Math.abs(busySteps - quietSteps) <= 2, "turn by turn: " + busySteps + " vs " + quietSteps);
            assertEquals(3, busy.executor.lastStepSequences, "the busy engine's steps batch its three requests");
            for (Request r : many) {
                assertNull(await(r).error());
            }
            assertNull(await(one).error());
            busy.loop.shutdown(Duration.ofSeconds(5));
            quiet.loop.shutdown(Duration.ofSeconds(5));
        }
    }

    @Test
    void detachingDrainsItsRequestsAndLeavesTheOtherEngineServing() throws Exception {
        FakeEngine leaving = new FakeEngine();
        FakeEngine staying = new FakeEngine();
        try (ComputeLane lane = ComputeLane.start("test")) {
            lane.attach(leaving.loop);
            lane.attach(staying.loop);
            Request inFlight = leaving.submit(1, 50);
            leaving.loop.shutdown(Duration.ofSeconds(30));
            RequestUpdate done = await(inFlight);
            assertNotNull(done.usage(), "drained, not cut");
            assertEquals(50, done.usage().completionTokens());
            assertEquals(leaving.pool.size(), leaving.pool.freeCount(), "its blocks were returned");
            assertEquals(0, leaving.executor.liveSequences());
            Request after = staying.submit(2, 10);
            assertNull(await(after).error());
            assertEquals(10, await(after).usage().completionTokens());
            staying.loop.shutdown(Duration.ZERO);
        }
    }

    @Test
    void anEngineThatDiesLeavesTheOthersServing() throws Exception {
        FakeEngine dying = new FakeEngine();
        FakeEngine healthy = new FakeEngine();
        CountDownLatch told = new CountDownLatch(1);
        dying.loop.onFailure(told::countDown);
        dying.executor.errorOnForward = new OutOfMemoryError("injected");
        try (ComputeLane lane = ComputeLane.start("test")) {
            lane.attach(dying.loop);
            lane.attach(healthy.loop);
            Request doomed = dying.submit(1, 10);
            assertTrue(told.await(30, TimeUnit.SECONDS));
            assertNotNull(await(doomed).error());
            assertFalse(dying.loop.health().live());
            Request fine = healthy.submit(2, 10);
            assertNull(await(fine).error());
            assertTrue(healthy.loop.health().live());
            healthy.loop.shutdown(Duration.ZERO);
        }
    }
}
