package dev.sluice.engine.runner;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How many segments a step is computed in, from its tokens and the last long step's time per token. */
class ComputeThreadsTest {

    @Test
    void aStepIsCutIntoQuarterSecondSegmentsOnceALongStepWasTimed() {
        double twoMsPerToken = 2_000_000;
        assertEquals(1, ComputeThreads.segments(1400, 0), "no long step timed yet");
        assertEquals(1, ComputeThreads.segments(64, twoMsPerToken), "short steps are never cut");
        assertEquals(1, ComputeThreads.segments(200, twoMsPerToken), "0.4 s: under two segments");
        assertEquals(2, ComputeThreads.segments(250, twoMsPerToken));
        assertEquals(11, ComputeThreads.segments(1400, twoMsPerToken), "2.8 s");
        assertEquals(ComputeThreads.MAX_SEGMENTS, ComputeThreads.segments(2048, 20 * twoMsPerToken), "at most 16");
        assertEquals(1, ComputeThreads.segments(1400, Double.NaN));
    }
}
