package dev.sluice.bench.load;

import java.time.Duration;

/**
 * When a level stops sending: after {@code maxRequests} requests or once {@code duration} has
 * passed (null: no time limit), whichever comes first. Requests in flight then still finish and
 * are recorded.
 */
record StopCondition(int maxRequests, Duration duration) {

    StopCondition {
        if (maxRequests < 0) {
            throw new IllegalArgumentException("maxRequests must not be negative");
        }
    }

    static StopCondition requests(int count) {
        return new StopCondition(count, null);
    }
}
