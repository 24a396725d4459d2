package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Small graphs computed by ggml on the CPU, checked against plain Java arithmetic. */
class GgmlGraphTest {

    @Test
    void computesMatrixProductAndRowOps() {
        try (GgmlContext ctx = GgmlContext.create(16, 64);
             Backend cpu = Backend.cpu(1);
             GraphAllocator allocator = GraphAllocator.forBackend(cpu)) {
            // w: 3 rows of 4 (ggml shape [4, 3]); x: 2 columns of 4 ([4, 2])
            Tensor w = ctx.newTensor(GgmlType.F32, 4, 3).asInput();
            Tensor x = ctx.newTensor(GgmlType.F32, 4, 2).asInput();
            Tensor ids = ctx.newTensor(GgmlType.I32, 2).asInput();
            Tensor y = ctx.mulMat(w, x).asOutput();               // [3, 2]
            Tensor picked = ctx.getRows(w, ids).asOutput();       // rows 2 and 0 of w
            Graph graph = ctx.newGraph(64).expand(y).expand(picked);
            allocator.allocate(graph);

            float[] wData = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
            float[] xData = {1, 0, 0, 1, 0.5f, 0.5f, 0.5f, 0.5f};
            try (Arena arena = Arena.ofConfined()) {
                w.write(arena.allocateFrom(ValueLayout.JAVA_FLOAT, wData), 0);
                x.write(arena.allocateFrom(ValueLayout.JAVA_FLOAT, xData), 0);
                ids.write(arena.allocateFrom(ValueLayout.JAVA_INT, 2, 0), 0);
                cpu.compute(graph);

                MemorySegment out = arena.allocate(y.bytes());
                y.read(out, 0);
                float[] expected = new float[6];
                for (int col = 0; col < 2; col++) {
                    for (int row = 0; row < 3; row++) {
                        for (int k = 0; k < 4; k++) {
                            expected[col * 3 + row] += wData[row * 4 + k] * xData[col * 4 + k];
                        }
                    }
                }
                assertArrayEquals(expected, out.toArray(ValueLayout.JAVA_FLOAT), 1e-5f);
                assertArrayEquals(new float[] {9, 10, 11, 12, 1, 2, 3, 4},
                        picked.hostData().toArray(ValueLayout.JAVA_FLOAT));
            }
            assertEquals(2, graph.nodeCount());
        }
    }

    @Test
    void wrapsJavaOwnedMemoryAsABuffer() {
        try (Arena arena = Arena.ofConfined();
             GgmlContext ctx = GgmlContext.create(4, 0)) {
            MemorySegment memory = arena.allocate(1024, BackendBuffer.HOST_ALIGNMENT);
            try (BackendBuffer buffer = BackendBuffer.wrapHost(memory)) {
                Tensor t = ctx.newTensor(GgmlType.F16, 8, 4);
                buffer.place(t, 256);
                assertEquals(memory.address() + 256, t.hostData().address());
                buffer.clear(0x3c); // 0x3c3c as F16 = 1.0586
                assertEquals(0x3c, memory.get(ValueLayout.JAVA_BYTE, 300));
                assertThrows(IllegalStateException.class, () -> buffer.place(t, 0), "already placed");
                assertThrows(IllegalArgumentException.class,
                        () -> buffer.place(ctx.newTensor(GgmlType.F32, 1024), 0), "does not fit");
            }
            assertThrows(IllegalArgumentException.class, () -> BackendBuffer.wrapHost(memory.asSlice(4)));
        }
    }

    @Test
    void aFullContextThrowsInsteadOfAbortingTheProcess() {
        // ggml_new_object aborts (GGML_ASSERT) when a context has no room left; a graph that
        // outgrows its builder's estimate must fail its step, not kill the server.
        try (GgmlContext ctx = GgmlContext.create(4, 0)) {
            Tensor a = ctx.newTensor(GgmlType.F32, 4);
            Tensor b = ctx.add(a, a);
            b = ctx.add(b, a);
            Tensor c = ctx.add(b, a);
            NativeException full = assertThrows(NativeException.class, () -> ctx.add(c, a));
            assertTrue(full.getMessage().contains("context full"), full.getMessage());
            assertThrows(NativeException.class, () -> ctx.newGraph(64));
        }
    }

    /**
     * The rule the model runner sizes its step graphs by: a graph of as many nodes as its
     * context holds tensors cannot overflow its node array (ggml aborts the process on that),
     * since every node is one of the context's tensors; tensors past that room leave too little
     * memory for the graph, which then fails as an exception.
     */
    @Test
    void aGraphAsLargeAsItsContextsTensorRoomNeverOverflows() {
        int room = 8;
        try (GgmlContext ctx = GgmlContext.create(room, room)) {
            Tensor a = ctx.newTensor(GgmlType.F32, 4);
            Tensor last = a;
            for (int i = 1; i < room; i++) {
                last = ctx.add(last, a);
            }
            Graph graph = ctx.newGraph(room).expand(last);
            assertEquals(room - 1, graph.nodeCount(), "every tensor but the input is a node");
        }
        try (GgmlContext ctx = GgmlContext.create(room, room)) {
            Tensor a = ctx.newTensor(GgmlType.F32, 4);
            Tensor last = a;
            int created = 1;
            try {
                for (; created < 4 * room; created++) {
                    last = ctx.add(last, a); // eats into the graph's share of the memory past `room`
                }
            } catch (NativeException full) {
                // the context ran out of room altogether
            }
            assertTrue(created > room, "more tensors than the room: " + created);
            assertThrows(NativeException.class, () -> ctx.newGraph(room), "no room left for the graph");
        }
    }

    @Test
    void typesMatchGgml() {
        assertEquals("q8_0", GgmlType.Q8_0.ggmlName());
        assertEquals(32, GgmlType.Q8_0.blockSize());
        assertEquals(34, GgmlType.Q8_0.blockBytes());
        assertEquals(2, GgmlType.F16.blockBytes());
        assertEquals(GgmlType.BF16, GgmlType.of(30));
        for (GgmlType type : GgmlType.values()) {
            assertEquals(type, GgmlType.of(type.id()));
        }
    }

    @Test
    void closedContextAndBackendFailCleanly() {
        GgmlContext ctx = GgmlContext.create(4, 8);
        Tensor t = ctx.newTensor(GgmlType.F32, 4);
        ctx.close();
        ctx.close();
        assertThrows(IllegalStateException.class, t::shape);
        assertThrows(IllegalStateException.class, () -> ctx.newTensor(GgmlType.F32, 1));
        Backend cpu = Backend.cpu(1);
        cpu.close();
        cpu.close();
        assertThrows(IllegalStateException.class, () -> cpu.threads(2));
    }
}
