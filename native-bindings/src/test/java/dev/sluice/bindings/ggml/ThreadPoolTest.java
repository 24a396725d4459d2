package dev.sluice.bindings.ggml;

import dev.sluice.bindings.SystemInfo;
import dev.sluice.bindings.ThreadTimes;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU backend's thread pools: their workers can be watched, each graph may use fewer of them,
 * and short steps may run on the pool whose workers spin between graphs.
 */
class ThreadPoolTest {

    /** {@code count} values drawn uniformly from [-0.5, 0.5). */
    private static float[] uniform(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextFloat() - 0.5f;
        }
        return values;
    }

    private static boolean openMp() {
        return SystemInfo.llamaSystemInfo().contains("OPENMP = 1");
    }

    @Test
    void thePoolsWorkersAreKnownByTheirKernelIds() {
        try (Backend cpu = Backend.cpu(3)) {
            assertEquals(3, cpu.maxThreads());
            assertEquals(3, cpu.activeThreads());
            long[] workers = cpu.workerThreadIds();
            if (openMp()) {
                assertEquals(0, workers.length, "OpenMP starts its own threads, later");
                return;
            }
            assertEquals(2, workers.length);
            String name = ThreadTimes.threadName(ThreadTimes.currentThreadId());
            for (long tid : workers) {
                assertEquals(name, ThreadTimes.threadName(tid), "a worker inherits its creator's name");
            }
            try (ThreadTimes waits = ThreadTimes.open(workers)) {
                assertTrue(waits.available());
                assertTrue(waits.waitNanos(2) >= 0 && waits.cpuNanos(2) >= 0);
            }
            cpu.threads(2); // a new pool: new workers
            assertEquals(1, cpu.workerThreadIds().length);
            assertTrue(cpu.workerThreadIds()[0] != workers[0] && cpu.workerThreadIds()[0] != workers[1]);
        }
    }

    @Test
    void aGraphGivesTheSameResultOnFewerThreads() {
        int n = 96;
        Random random = new Random(7);
        float[] a = uniform(random, n * n);
        float[] b = uniform(random, n * 5);
        try (GgmlContext ctx = GgmlContext.create(8, 16);
             Backend cpu = Backend.cpu(2);
             GraphAllocator allocator = GraphAllocator.forBackend(cpu);
             Arena arena = Arena.ofConfined()) {
            Tensor x = ctx.newTensor(GgmlType.F32, n, n).asInput();
            Tensor y = ctx.newTensor(GgmlType.F32, n, 5).asInput();
            Tensor out = ctx.rmsNorm(ctx.mulMat(x, y), 1e-6f).asOutput();
            Graph graph = ctx.newGraph(16).expand(out);
            allocator.allocate(graph);
            x.write(arena.allocateFrom(ValueLayout.JAVA_FLOAT, a), 0);
            y.write(arena.allocateFrom(ValueLayout.JAVA_FLOAT, b), 0);

            cpu.compute(graph);
            float[] two = out.hostData().toArray(ValueLayout.JAVA_FLOAT);
            cpu.activeThreads(1);
            assertEquals(1, cpu.activeThreads());
            cpu.compute(graph);
            float[] one = out.hostData().toArray(ValueLayout.JAVA_FLOAT);
            cpu.activeThreads(2);
            cpu.compute(graph);
            assertArrayEquals(two, one);
            assertArrayEquals(two, out.hostData().toArray(ValueLayout.JAVA_FLOAT));
            assertThrows(IllegalArgumentException.class, () -> cpu.activeThreads(3));
            assertThrows(IllegalArgumentException.class, () -> cpu.activeThreads(0));
        }
    }

    @Test
    void graphsRunOnTheSpinningPoolOnlyWhileAskedAndEveryThreadIsActive() throws InterruptedException {
        try (Backend one = Backend.cpu(1)) {
            assertEquals(0, one.spinningWorkerThreadIds().length, "one thread: no worker to spin");
            one.spinBetweenGraphs(true);
            assertFalse(one.spinning());
        }
        if (openMp()) {
            return; // no pools of ggml's own to choose between
        }
        Random random = new Random(11);
        int n = 256;
        float[] a = uniform(random, n * n);
        float[] b = uniform(random, n * 8);
        try (GgmlContext ctx = GgmlContext.create(8, 16);
             Backend cpu = Backend.cpu(2);
             GraphAllocator allocator = GraphAllocator.forBackend(cpu);
             Arena arena = Arena.ofConfined()) {
            long sleeper = cpu.workerThreadIds()[0];
            long spinner = cpu.spinningWorkerThreadIds()[0];
            assertTrue(sleeper != spinner, "two pools, two workers");
            Tensor x = ctx.newTensor(GgmlType.F32, n, n).asInput();
            Tensor y = ctx.newTensor(GgmlType.F32, n, 8).asInput();
            Tensor out = ctx.mulMat(x, y).asOutput();
            Graph graph = ctx.newGraph(16).expand(out);
            allocator.allocate(graph);
            x.write(arena.allocateFrom(ValueLayout.JAVA_FLOAT, a), 0);
            y.write(arena.allocateFrom(ValueLayout.JAVA_FLOAT, b), 0);
            cpu.compute(graph);
            float[] sleeping = out.hostData().toArray(ValueLayout.JAVA_FLOAT);
            assertFalse(cpu.spinning(), "the sleeping pool until asked");

            try (ThreadTimes times = ThreadTimes.open(sleeper, spinner)) {
                cpu.spinBetweenGraphs(true);
                assertTrue(cpu.spinning());
                Thread.sleep(20); // the spinning pool's start-up spin is over, the other pool's pause taken
                long sleeperBefore = times.cpuNanos(1);
                long spinnerBefore = times.cpuNanos(2) - sleeperBefore;
                for (int i = 0; i < 20; i++) {
                    cpu.compute(graph);
                }
                assertArrayEquals(sleeping, out.hostData().toArray(ValueLayout.JAVA_FLOAT));
                // Leaving the pool pauses it: its worker stops spinning and sleeps, and the kernel
                // settles its CPU time (a running thread's is only brought up to date now and then).
                cpu.spinBetweenGraphs(false);
                assertFalse(cpu.spinning());
                Thread.sleep(20);
                long sleeperAfter = times.cpuNanos(1);
                long spinnerAfter = times.cpuNanos(2) - sleeperAfter;
                assertEquals(sleeperBefore, sleeperAfter, "the sleeping pool's worker took no part");
                assertTrue(spinnerAfter > spinnerBefore, "the spinning pool's worker computed");
                Thread.sleep(50);
                assertEquals(spinnerAfter, times.cpuNanos(2) - times.cpuNanos(1), "a pool left stops spinning");

                cpu.spinBetweenGraphs(true);
                cpu.activeThreads(1);
                assertFalse(cpu.spinning(), "fewer threads than the pool leave the spinning pool");
                cpu.spinBetweenGraphs(true);
                assertFalse(cpu.spinning());
                cpu.activeThreads(2);
                cpu.compute(graph);
                assertArrayEquals(sleeping, out.hostData().toArray(ValueLayout.JAVA_FLOAT));
            }
        }
    }
}
