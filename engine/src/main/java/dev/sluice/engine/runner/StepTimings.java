package dev.sluice.engine.runner;

/**
 * Where the last {@link ModelRunner#forward} spent its time, in nanoseconds: building the graph
 * (Java + FFM calls into ggml), allocating it, writing inputs, and computing it.
 */
public record StepTimings(long buildNanos, long allocateNanos, long inputNanos, long computeNanos, int graphNodes) {

    public long totalNanos() {
        return buildNanos + allocateNanos + inputNanos + computeNanos;
    }
}
