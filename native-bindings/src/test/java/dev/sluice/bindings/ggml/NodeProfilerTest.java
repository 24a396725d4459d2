package dev.sluice.bindings.ggml;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A graph computed node by node gives the whole graph's result and each node's time by op. */
class NodeProfilerTest {

    @Test
    void nodeByNodeComputesTheGraphsResultAndTimesEachOp() {
        try (GgmlContext ctx = GgmlContext.create(32, 64);
             Backend cpu = Backend.cpu(2);
             GraphAllocator allocator = GraphAllocator.forBackend(cpu);
             NodeProfiler profiler = new NodeProfiler();
             Arena arena = Arena.ofConfined()) {
            MatMulInputs in = MatMulInputs.in(ctx);
            Tensor w = in.w();
            Tensor x = in.x();
            Tensor y = ctx.mulMat(w, x);                                    // [48, 5]
            Tensor z = ctx.add(ctx.rmsNorm(y, 1e-5f), ctx.reshape(y, 48, 5)); // a reshape: a node that computes nothing
            Tensor out = ctx.mul(z, z).asOutput();
            Graph graph = ctx.newGraph(64).expand(out);
            allocator.allocate(graph);
            in.write(arena);
            cpu.compute(graph);
            float[] whole = out.hostData().toArray(ValueLayout.JAVA_FLOAT);
            out.hostData().fill((byte) 0);

            in.write(arena);
            OpTimes times = new OpTimes();
            profiler.compute(cpu, graph, times);
            assertArrayEquals(whole, out.hostData().toArray(ValueLayout.JAVA_FLOAT));

            Map<String, OpTimes.Entry> entries = times.entries();
            assertEquals(Map.of("MUL_MAT", 1L, "RMS_NORM", 1L, "ADD", 1L, "MUL", 1L).keySet(), entries.keySet());
            entries.values().forEach(e -> assertEquals(1, e.nodes()));
            assertFalse(entries.containsKey("RESHAPE"), "views are skipped");
            assertTrue(entries.values().stream().allMatch(e -> e.nanos() > 0));
            assertEquals(entries.values().stream().mapToLong(OpTimes.Entry::nanos).sum(), times.totalNanos());

            in.write(arena);
            profiler.compute(cpu, graph, times);
            assertArrayEquals(whole, out.hostData().toArray(ValueLayout.JAVA_FLOAT));
            assertEquals(2, times.entries().get("MUL_MAT").nodes(), "a second profile adds to the first");
            times.clear();
            assertTrue(times.entries().isEmpty());
        }
    }

    @Test
    void setInPlaceWritesRowsAtAnOffset() {
        try (GgmlContext ctx = GgmlContext.create(16, 16);
             Backend cpu = Backend.cpu(1);
             GraphAllocator allocator = GraphAllocator.forBackend(cpu);
             Arena arena = Arena.ofConfined()) {
            Tensor a = ctx.newTensor(GgmlType.F32, 3, 4).asInput();
            Tensor b = ctx.newTensor(GgmlType.F32, 3, 2).asInput();
            Tensor joined = ctx.set2dInPlace(a, b, a.nb(1), 1 * a.nb(1)).asOutput(); // b's rows become a's rows 1 and 2
            Graph graph = ctx.newGraph(16).expand(joined);
            allocator.allocate(graph);
            a.write(arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3), 0);
            b.write(arena.allocateFrom(ValueLayout.JAVA_FLOAT, 7, 7, 7, 8, 8, 8), 0);
            cpu.compute(graph);
            assertArrayEquals(new float[] {0, 0, 0, 7, 7, 7, 8, 8, 8, 3, 3, 3}, joined.hostData().toArray(ValueLayout.JAVA_FLOAT));
        }
    }
}
