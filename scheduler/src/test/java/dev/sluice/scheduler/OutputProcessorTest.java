package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tokens to text in the scheduler, with no native code: detokenized over the synthetic vocabulary
 * (token t reads "w&lt;t&gt; "), stop strings matched across tokens and held back, stop token ids.
 */
class OutputProcessorTest {

    private static int[] prompt(int seed, int length) {
        return IntStream.range(0, length).map(i -> FakeExecutor.FIRST_ORDINARY_TOKEN + (seed * 131 + i * 17) % 4000).toArray();
    }

    /** Everything a request's stream delivered, as text, until it is done. */
    private static String text(Request request) throws InterruptedException {
        StringBuilder text = new StringBuilder();
        RequestUpdate update;
        do {
            update = request.stream().next(0, TimeUnit.MILLISECONDS);
            if (update != null) {
                update.deltas().forEach(d -> text.append(d.text()));
            }
        } while (update != null && !update.done());
        return text.toString();
    }

    @Test
    void aStopStringSpanningTokensEndsTheSequenceAndIsNotInTheText() throws InterruptedException {
        int[] p = prompt(1, 6);
        int[] greedy = FakeExecutor.greedy(p, 8);
        // Stop at the end of the third token and the start of the fourth: it spans two tokens.
        String third = "w" + greedy[2] + " ";
        String fourth = "w" + greedy[3] + " ";
        String stop = third.substring(2) + fourth.substring(0, 2);
        try (Harness h = new Harness(64, 4, new SchedulerConfig(2048, 8, 4096, true, 0))) {
            Request r = new Request("s", p, SamplingParams.GREEDY, new StopConditions(8, false, null, List.of(stop)), 1, 0, 0);
            h.loop.submit(r);
            h.runUntilIdle(100);
            assertEquals(FinishReason.STOP, r.sequences().getFirst().finishReason());
            String expected = "w" + greedy[0] + " " + "w" + greedy[1] + " " + third.substring(0, 2);
            assertEquals(expected, text(r));
            h.assertNoLeaks();
        }
    }

    @Test
    void aStopTokenEndsTheSequenceWithoutText() throws InterruptedException {
        int[] p = prompt(2, 5);
        int[] greedy = FakeExecutor.greedy(p, 8);
        try (Harness h = new Harness(64, 4, new SchedulerConfig(2048, 8, 4096, true, 0))) {
            Request r = new Request("t", p, SamplingParams.GREEDY,
                    new StopConditions(8, false, new int[] {greedy[2]}, null), 1, 0, 0);
            h.loop.submit(r);
            h.runUntilIdle(100);
            assertEquals(FinishReason.STOP, r.sequences().getFirst().finishReason());
            assertEquals("w" + greedy[0] + " w" + greedy[1] + " ", text(r));
            assertEquals(3, r.sequences().getFirst().outputLength(), "the stop token counts as generated");
            h.assertNoLeaks();
        }
    }

    @Test
    void aPartialStopStringIsReleasedWhenTheSequenceEndsByLength() throws InterruptedException {
        int[] p = prompt(3, 5);
        int[] greedy = FakeExecutor.greedy(p, 2);
        String last = "w" + greedy[1] + " ";
        // The text ends with the start of the stop string: held back, then released at the end.
        String stop = last.substring(1) + "never";
        try (Harness h = new Harness(64, 4, new SchedulerConfig(2048, 8, 4096, true, 0))) {
            Request r = new Request("u", p, SamplingParams.GREEDY, new StopConditions(2, false, null, List.of(stop)), 1, 0, 0);
            h.loop.submit(r);
            h.runUntilIdle(100);
            assertEquals(FinishReason.LENGTH, r.sequences().getFirst().finishReason());
            assertEquals("w" + greedy[0] + " " + last, text(r));
            h.assertNoLeaks();
        }
    }
}
