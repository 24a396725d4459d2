package dev.sluice.bindings.ggml;

import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.MemorySegment;

/** A computation graph ({@code ggml_cgraph}) living in its context's metadata memory. */
public final class Graph {

    private final GgmlContext owner;
    private final MemorySegment graph;

    Graph(GgmlContext owner, MemorySegment graph) {
        if (graph.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("ggml could not create a graph");
        }
        this.owner = owner;
        this.graph = graph;
    }

    MemorySegment pointer() {
        owner.checkOpen();
        return graph;
    }

    /** Adds {@code result} and everything it depends on, in dependency order. */
    public Graph expand(Tensor result) {
        llama_cpp.ggml_build_forward_expand(pointer(), result.pointer());
        return this;
    }

    public int nodeCount() {
        return llama_cpp.ggml_graph_n_nodes(pointer());
    }
}
