package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Requests arriving together with a common prefix compute it once: the others wait for the
 * first one's prefill and take the prefix from the cache; outputs are unchanged.
 */
class SharedPrefixWaitTest {

    private static final SamplingParams GREEDY = SamplingParams.GREEDY;

    /** A 48-token shared prefix (12 blocks of 4) and a distinct 6-token tail. */
    private static int[] prompt(int tail) {
        return IntStream.range(0, 54).map(i -> FakeExecutor.FIRST_ORDINARY_TOKEN
                + (i < 48 ? (i * 37) % 3000 : 3000 + tail * 7 + i)).toArray();
    }

    @Test
    void requestsWithACommonPrefixComputeItOnce() {
        SchedulerConfig config = new SchedulerConfig(2048, 64, 4096, true, 0);
        try (Harness h = new Harness(512, 4, config)) {
            Request[] requests = new Request[8];
            for (int i = 0; i < requests.length; i++) {
                requests[i] = h.submit(prompt(i), GREEDY, 5, 1);
            }
            h.step();
            SchedulerStep first = h.scheduler.lastStep();
            assertEquals(1, first.sequences().size(), "the others wait for the first prefill of the shared prefix");
            assertEquals(54, first.newTokens(0));
            h.step();
            SchedulerStep second = h.scheduler.lastStep();
            int computed = 0;
            for (int i = 0; i < second.sequences().size(); i++) {
                computed += second.newTokens(i);
            }
            assertEquals(8, second.sequences().size(), "then all run: one decode and seven prompts");
            assertEquals(1 + 7 * 6, computed, "each of the seven computes only its own 6-token tail");
            h.runUntilIdle(100);
            for (int i = 0; i < requests.length; i++) {
                assertArrayEquals(FakeExecutor.greedy(prompt(i), 5), h.output(requests[i], 0));
                int cached = requests[i].sequences().getFirst().cachedPromptTokens();
                assertEquals(i == 0 ? 0 : 48, cached, "request " + i);
            }
            h.assertNoLeaks();
        }
    }

    @Test
    void withoutACommonFullBlockNobodyWaits() {
        SchedulerConfig config = new SchedulerConfig(2048, 64, 4096, true, 0);
        try (Harness h = new Harness(512, 4, config)) {
            for (int i = 0; i < 4; i++) {
                int seed = i;
                h.submit(IntStream.range(0, 20).map(k -> FakeExecutor.FIRST_ORDINARY_TOKEN + seed * 500 + k).toArray(),
                        GREEDY, 3, 1);
            }
            h.step();
            assertEquals(4, h.scheduler.lastStep().sequences().size());
            h.runUntilIdle(100);
            h.assertNoLeaks();
        }
    }
}
