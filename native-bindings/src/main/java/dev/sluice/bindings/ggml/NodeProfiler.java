package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeStrings;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.MemorySegment;

/**
 * Computes an allocated graph one node at a time, each as a graph of its own, and records each
 * node's time by its kind of op ({@link OpTimes}): a profile of where a step's compute goes. The
 * nodes run in the graph's order on the same backend and memory, so the result is the graph's
 * own; only the timing differs, by one graph dispatch per node (measure it: a profile is for
 * comparing shares and kinds, not for the step's total). Nodes that compute nothing (views,
 * reshapes, permutes) are skipped. Engine-thread only, like the graph it computes.
 */
public final class NodeProfiler implements AutoCloseable {

    private final GgmlContext context = GgmlContext.create(0, 1);
    private final Graph single = context.newGraph(1);

    /** Computes {@code graph} on {@code backend} node by node, adding each node's time to {@code times}. */
    public void compute(Backend backend, Graph graph, OpTimes times) {
        MemorySegment g = graph.pointer();
        MemorySegment one = single.pointer();
        int nodes = llama_cpp.ggml_graph_n_nodes(g);
        for (int i = 0; i < nodes; i++) {
            MemorySegment node = llama_cpp.ggml_graph_node(g, i);
            String op = NativeStrings.read(llama_cpp.ggml_op_desc(node));
            if (computesNothing(op)) {
                continue;
            }
            llama_cpp.ggml_graph_clear(one);
            llama_cpp.ggml_graph_add_node(one, node);
            long start = System.nanoTime();
            int status = llama_cpp.ggml_backend_graph_compute(backend.pointer(), one);
            times.add(op, System.nanoTime() - start);
            if (status != 0) {
                throw new NativeException("ggml_backend_graph_compute of node " + i + " (" + op + ") failed with status " + status);
            }
        }
    }

    /** Ops the CPU backend skips: they only describe a view of another tensor's data. */
    public static boolean computesNothing(String op) {
        return switch (op) {
            case "NONE", "VIEW", "RESHAPE", "PERMUTE", "TRANSPOSE" -> true;
            default -> false;
        };
    }

    @Override
    public void close() {
        context.close();
    }
}
