package dev.sluice.bench.load;

import java.time.Duration;

/**
 * When a level stops sending: after {@code maxRequests} requests or once {@code duration} has
 * passed (null: no time limit), whichever comes first. Requests in flight then still finish and
 * are recorded. With {@code requestsPerConcurrency > 0}, a closed-loop level of concurrency c
 * sends at least that many times c requests, so high levels are not dominated by their ramp-up
 * and tail.
 */
record StopCondition(int maxRequests, Duration duration, int requestsPerConcurrency) {

    StopCondition {
        if (maxRequests < 0 || requestsPerConcurrency < 0) {
            throw new IllegalArgumentException("request counts must not be negative");
        }
    }

    StopCondition(int maxRequests, Duration duration) {
        this(maxRequests, duration, 0);
    }

    /** The condition for one level: {@code maxRequests} raised to {@code requestsPerConcurrency × c}. */
    StopCondition forLevel(LoadPattern level) {
        if (requestsPerConcurrency == 0 || maxRequests == Integer.MAX_VALUE
                || !(level instanceof LoadPattern.ClosedLoop closed)) {
            return this;
        }
        return new StopCondition(Math.max(maxRequests, requestsPerConcurrency * closed.concurrency()), duration, 0);
    }

    static StopCondition requests(int count) {
        return new StopCondition(count, null);
    }
}
