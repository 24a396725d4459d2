package dev.sluice.bench.load;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** Live counts of one level, written by its requests and read by the progress line. */
final class LevelCounters {

    final LongAdder outputTokens = new LongAdder();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    private final LongAdder succeeded = new LongAdder();
    private final LongAdder failed = new LongAdder();

    void started() {
        peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
    }

    void finished(boolean success) {
        inFlight.decrementAndGet();
        (success ? succeeded : failed).increment();
    }

    int inFlight() {
        return inFlight.get();
    }

    /** The most requests in flight at once so far. */
    int peak() {
        return peak.get();
    }

    long done() {
        return succeeded.sum() + failed.sum();
    }

    long failed() {
        return failed.sum();
    }
}
