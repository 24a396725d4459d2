package dev.sluice.engine.runner;

/**
 * Where the last {@link ModelRunner#forward} spent its time, in nanoseconds: building the graph
 * (Java + FFM calls into ggml), allocating it, writing inputs, and computing it; the graph's
 * size: its nodes and how many attention groups the batch was split into; and the CPU threads
 * that computed it.
 */
public record StepTimings(long buildNanos, long allocateNanos, long inputNanos, long computeNanos, int graphNodes,
                          int attentionGroups, int threads) {

    public long totalNanos() {
        return buildNanos + allocateNanos + inputNanos + computeNanos;
    }
}
