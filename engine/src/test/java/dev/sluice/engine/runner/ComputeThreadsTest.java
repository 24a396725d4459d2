package dev.sluice.engine.runner;

import dev.sluice.bindings.SystemInfo;
import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.ggml.GgmlContext;
import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.bindings.ggml.Graph;
import dev.sluice.bindings.ggml.GraphAllocator;
import dev.sluice.bindings.ggml.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a step is computed: in how many segments (from its tokens and the last long step's time per
 * token), and on which of the backend's thread pools (short steps on the one whose workers spin).
 */
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

    @Test
    void shortStepsRunOnTheSpinningPoolAndLongerOnesOnTheSleepingOne() {
        if (SystemInfo.llamaSystemInfo().contains("OPENMP = 1") || ComputeThreads.SPIN_MAX_TOKENS <= 0) {
            return; // OpenMP has no pools of ggml's own; -Dsluice.spin-max-tokens=0 turns spinning off
        }
        for (boolean adaptive : new boolean[] {true, false}) {
            try (GgmlContext ctx = GgmlContext.create(8, 16);
                 Backend cpu = Backend.cpu(2);
                 GraphAllocator allocator = GraphAllocator.forBackend(cpu);
                 ComputeThreads threads = ComputeThreads.of(cpu, adaptive)) {
                Tensor x = ctx.newTensor(GgmlType.F32, 64, 64).asInput();
                Tensor y = ctx.newTensor(GgmlType.F32, 64, 4).asInput();
                Graph graph = ctx.newGraph(16).expand(ctx.mulMat(x, y).asOutput());
                allocator.allocate(graph);

                // With the governor, a busy host may take the count below the pool's for a while:
                // then no step spins. Without it, every thread is always active.
                int[] steps = {1, ComputeThreads.SPIN_MAX_TOKENS, ComputeThreads.SPIN_MAX_TOKENS + 1, 512, 1};
                for (int tokens : steps) {
                    threads.compute(graph, tokens);
                    boolean all = cpu.activeThreads() == cpu.maxThreads();
                    assertTrue(adaptive || all);
                    assertEquals(tokens <= ComputeThreads.SPIN_MAX_TOKENS && all, cpu.spinning(),
                            tokens + " tokens, adaptive " + adaptive + ", " + cpu.activeThreads() + " threads");
                }
            }
        }
    }
}
