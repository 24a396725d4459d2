package dev.sluice.bindings.ggml;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A graph computed in ranges of its nodes, at different thread counts, gives the whole graph's result. */
class GraphSegmentsTest {

    @Test
    void rangesInOrderComputeTheGraphsResultWhateverTheThreadsBetweenThem() {
        try (GgmlContext ctx = GgmlContext.create(32, 64);
             Backend cpu = Backend.cpu(2);
             GraphAllocator allocator = GraphAllocator.forBackend(cpu);
             GraphSegments segments = new GraphSegments();
             Arena arena = Arena.ofConfined()) {
            MatMulInputs in = MatMulInputs.in(ctx);
            Tensor w = in.w();
            Tensor x = in.x();
            Tensor y = ctx.mulMat(w, x);                                      // [48, 5]
            Tensor z = ctx.add(ctx.rmsNorm(y, 1e-5f), ctx.reshape(y, 48, 5));
            Tensor u = ctx.mulMat(ctx.reshape(w, 48, 64), z);                 // depends on a node two ranges back
            Tensor out = ctx.add(ctx.mul(u, u), u).asOutput();
            Graph graph = ctx.newGraph(64).expand(out);
            allocator.allocate(graph);
            in.write(arena);
            cpu.compute(graph);
            float[] whole = out.hostData().toArray(ValueLayout.JAVA_FLOAT);

            int nodes = graph.nodeCount();
            for (int parts : new int[] {1, 2, 3, nodes}) {
                out.hostData().fill((byte) 0);
                    in.write(arena);
                for (int p = 0; p < parts; p++) {
                    cpu.activeThreads(1 + p % 2);
                    segments.compute(cpu, graph, nodes * p / parts, nodes * (p + 1) / parts);
                }
                assertArrayEquals(whole, out.hostData().toArray(ValueLayout.JAVA_FLOAT), parts + " ranges");
            }
            assertEquals(2, cpu.maxThreads());
        }
    }

    @Test
    void aRangeOutsideTheGraphIsRefused() {
        try (GgmlContext ctx = GgmlContext.create(8, 8);
             Backend cpu = Backend.cpu(1);
             GraphSegments segments = new GraphSegments()) {
            Tensor a = ctx.newTensor(GgmlType.F32, 4).asInput();
            Graph graph = ctx.newGraph(8).expand(ctx.add(a, a).asOutput());
            int nodes = graph.nodeCount();
            assertThrows(IllegalArgumentException.class, () -> segments.compute(cpu, graph, 0, nodes + 1));
            assertThrows(IllegalArgumentException.class, () -> segments.compute(cpu, graph, -1, nodes));
            assertThrows(IllegalArgumentException.class, () -> segments.compute(cpu, graph, nodes, nodes));
        }
    }
}
