package dev.sluice.api;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engine requests that handlers have submitted and not finished: what
 * {@code --max-queued-requests} bounds, and what readiness reports as saturation. Counted here,
 * by the handlers, rather than asked of the engine, whose count misses requests during the step
 * that admits them.
 */
public final class Admission {

    private final int limit;
    private final AtomicInteger admitted = new AtomicInteger();

    public Admission(int limit) {
        this.limit = limit;
    }

    /** Reserves {@code count} slots at once, or none: concurrent handlers cannot both take the last one. */
    public boolean tryAcquire(int count) {
        if (admitted.addAndGet(count) > limit) {
            admitted.addAndGet(-count);
            return false;
        }
        return true;
    }

    public void release(int count) {
        admitted.addAndGet(-count);
    }

    public int limit() {
        return limit;
    }

    /** No room for another request: new ones would get 429. */
    public boolean isSaturated() {
        return admitted.get() >= limit;
    }
}
