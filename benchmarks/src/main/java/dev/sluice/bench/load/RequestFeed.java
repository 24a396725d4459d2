package dev.sluice.bench.load;

import java.util.SplittableRandom;

/**
 * Hands out a level's requests in order until its {@link StopCondition} says stop. The workload
 * draws from one seeded generator under this object's lock, so request {@code i} is the same
 * whichever worker sends it and however the level is paced.
 */
final class RequestFeed {

    private final Workload workload;
    private final PromptRenderer renderer;
    private final SplittableRandom random;
    private final int maxRequests;
    private final boolean timed;
    private final long deadlineNanos;
    private int issued;

    /** {@code startNanos} is the {@link System#nanoTime()} the stop condition's duration counts from. */
    RequestFeed(Workload workload, PromptRenderer renderer, long seed, StopCondition stop, long startNanos) {
        this.workload = workload;
        this.renderer = renderer;
        this.random = new SplittableRandom(seed);
        this.maxRequests = stop.maxRequests();
        this.timed = stop.duration() != null;
        this.deadlineNanos = timed ? startNanos + stop.duration().toNanos() : 0;
    }

    /** The next request, or null once the level has sent all it should. */
    synchronized PlannedRequest next() {
        if (issued >= maxRequests || (timed && System.nanoTime() - deadlineNanos >= 0)) {
            return null;
        }
        RequestShape shape = workload.next(random);
        return new PlannedRequest(issued++, renderer.render(shape), shape.outputTokens());
    }
}
