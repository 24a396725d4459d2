package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.MemorySegment;

/**
 * Computes an allocated graph a range of its nodes at a time, each range as a graph of its own,
 * so that the caller may change something between ranges: the CPU thread count, for a step long
 * enough that the count chosen before it may be wrong by its end. The ranges run in the graph's
 * order on the same backend and memory, so computing them all in order gives the graph's result.
 * The one difference: a CPU backend fuses an {@code RMS_NORM} with the {@code MUL} after it only
 * within a graph built by expansion, so ranges compute those two apart (the same values up to
 * rounding). Engine-thread only, like the graph it computes.
 */
public final class GraphSegments implements AutoCloseable {

    private GgmlContext context;
    private Graph segment;
    private int capacity;

    /** Computes the nodes {@code from} (inclusive) to {@code to} (exclusive) of {@code graph} on {@code backend}. */
    public void compute(Backend backend, Graph graph, int from, int to) {
        MemorySegment g = graph.pointer();
        int nodes = llama_cpp.ggml_graph_n_nodes(g);
        if (from < 0 || to > nodes || from >= to) {
            throw new IllegalArgumentException("nodes " + from + ".." + to + " of a graph of " + nodes);
        }
        MemorySegment part = room(to - from).pointer();
        llama_cpp.ggml_graph_clear(part);
        for (int i = from; i < to; i++) {
            llama_cpp.ggml_graph_add_node(part, llama_cpp.ggml_graph_node(g, i));
        }
        int status = llama_cpp.ggml_backend_graph_compute(backend.pointer(), part);
        if (status != 0) {
            throw new NativeException("ggml_backend_graph_compute of nodes " + from + ".." + to + " failed with status " + status);
        }
    }

    /** A graph with room for {@code nodes} nodes, grown (by doubling) when the last had less. */
    private Graph room(int nodes) {
        if (nodes > capacity) {
            int grown = Math.max(nodes, 2 * capacity);
            close();
            context = GgmlContext.create(0, grown);
            segment = context.newGraph(grown);
            capacity = grown;
        }
        return segment;
    }

    @Override
    public void close() {
        if (context != null) {
            context.close();
            context = null;
            segment = null;
            capacity = 0;
        }
    }
}
