package dev.sluice.scheduler;

/**
 * A sequence's life: WAITING (queued, or preempted to be recomputed) → RUNNING (its KV in the
 * pool, scheduled every step) ⇄ SWAPPED (its KV parked in host memory) → FINISHED.
 */
public enum SequenceStatus {
    WAITING, RUNNING, SWAPPED, FINISHED
}
