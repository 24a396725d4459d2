package dev.sluice.engine.runner;

/**
 * Where the last {@link ModelRunner#forward} spent its time, in nanoseconds: building the graph
 * (Java + FFM calls into ggml), allocating it, writing inputs, and computing it; the graph's
 * size: its nodes and how many attention groups the batch was split into; the CPU threads that
 * computed it (its first segment, when it was computed in segments of its graph so that the count
 * could change within it: {@code segments}); how many of the groups attended a shared prefix once ({@link CascadeAttention});
 * and the KV rows per layer that attention gathered (copied into logical order) against the
 * context rows the step's sequences attend to: their ratio is the share of KV read through a
 * gather rather than in place or once for a whole group.
 */
public record StepTimings(long buildNanos, long allocateNanos, long inputNanos, long computeNanos, int graphNodes,
                          int attentionGroups, int threads, int cascadeGroups, long gatheredRows, long contextRows,
                          int segments) {

    public StepTimings(long buildNanos, long allocateNanos, long inputNanos, long computeNanos, int graphNodes,
                       int attentionGroups, int threads) {
        this(buildNanos, allocateNanos, inputNanos, computeNanos, graphNodes, attentionGroups, threads, 0, 0, 0, 1);
    }

    public long totalNanos() {
        return buildNanos + allocateNanos + inputNanos + computeNanos;
    }
}
