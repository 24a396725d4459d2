package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SamplingParams;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random arrivals, cancellations and memory pressure (so preemption by swap or recompute),
 * thousands of steps with a fixed seed: the pool's bookkeeping stays exact at every step, nothing
 * leaks at the end, and every output is what the fake model would say given the history each
 * sequence really had.
 */
class SchedulerPropertyTest {

    @ParameterizedTest(name = "swap slots {0}")
    @ValueSource(ints = {0, 24})
    void randomTrafficNeverLeaksOrCorruptsKv(int swapSlots) {
        Random random = new Random(1234 + swapSlots);
        int[][] prefixes = new int[4][];
        for (int i = 0; i < prefixes.length; i++) {
            prefixes[i] = random.ints(4 + random.nextInt(12), FakeExecutor.FIRST_ORDINARY_TOKEN, 4000).toArray();
        }
        SchedulerConfig config = new SchedulerConfig(24, 8, 128, true, swapSlots);
        try (Harness h = new Harness(24, 4, config)) {
            List<Request> all = new ArrayList<>();
            List<int[]> prompts = new ArrayList<>();
            List<Boolean> greedy = new ArrayList<>();
            int steps = 0;
            for (; steps < 4000; steps++) {
                if (random.nextInt(4) == 0 && all.size() < 600) {
                    int[] prefix = random.nextBoolean() ? prefixes[random.nextInt(prefixes.length)] : new int[0];
                    int[] tail = random.ints(1 + random.nextInt(12), FakeExecutor.FIRST_ORDINARY_TOKEN, 4000).toArray();
                    int[] prompt = concat(prefix, tail);
                    boolean isGreedy = random.nextBoolean();
                    SamplingParams sampling = isGreedy ? SamplingParams.GREEDY
                            : SamplingParams.builder().temperature(1f).seed(random.nextInt(1000)).build();
                    int n = random.nextInt(5) == 0 ? 2 : 1;
                    int maxTokens = 1 + random.nextInt(20);
                    Request r = h.submit(prompt, sampling, new StopConditions(maxTokens, false, null, null), n,
                            random.nextInt(3));
                    all.add(r);
                    prompts.add(prompt);
                    greedy.add(isGreedy);
                }
                if (random.nextInt(15) == 0 && !all.isEmpty()) {
                    all.get(random.nextInt(all.size())).cancel();
                }
                h.step();
                h.pool.checkInvariants();
                int used = h.pool.usedCount();
                int referenced = 0;
                for (Sequence s : h.scheduler.unfinished()) {
                    if (s.status() == SequenceStatus.RUNNING) {
                        assertTrue(s.blocks().size() >= (s.computed() + 3) / 4, "a running sequence holds its KV: " + s);
                    }
                    referenced += s.blocks().size();
                }
                assertTrue(used <= referenced, "every used block is referenced by a live sequence");
            }
            h.runUntilIdle(20_000);
            h.assertNoLeaks();
            assertTrue(h.scheduler.preemptions() > 0, "memory pressure caused preemptions");
            if (swapSlots > 0) {
                assertTrue(h.executor.swapOuts > 0, "some preemptions swapped");
            }

            int completed = 0;
            for (int i = 0; i < all.size(); i++) {
                Request r = all.get(i);
                RequestUpdate result = h.result(r);
                assertTrue(result != null && result.done(), "request " + i + " ended");
                for (Sequence s : r.sequences()) {
                    int[] out = h.output(r, s.index());
                    assertTrue(FakeExecutor.isConsistent(prompts.get(i), out),
                            "request " + i + " choice " + s.index() + " saw the KV it wrote: " + Arrays.toString(out));
                    if (s.finishReason() != FinishReason.CANCELLED) {
                        assertEquals(FinishReason.LENGTH, s.finishReason());
                        assertEquals(r.stop().maxTokens(), out.length);
                        if (greedy.get(i)) {
                            assertArrayEquals(FakeExecutor.greedy(prompts.get(i), out.length), out);
                        }
                        completed++;
                    }
                }
            }
            assertTrue(completed > all.size() / 2, "most requests completed: " + completed + " of " + all.size());
            assertTrue(h.metrics.prefixCacheHitTokens() > 0, "shared prefixes hit the cache");
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
