package dev.sluice.api.models;

import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;

/**
 * How a model version has served: requests, failures and time to first token, in total (for
 * metrics) and over a sliding window of its most recent requests (for a route's guard). Any
 * thread records; the window is guarded by this object's monitor.
 */
public final class VersionStats {

    /** Requests the guard's window remembers per version. */
    static final int WINDOW = 500;

    public final LongAdder requests = new LongAdder();
    public final LongAdder failures = new LongAdder();
    /** Copies this version got as a route's shadow. */
    public final LongAdder shadowRequests = new LongAdder();
    /** Copies dropped for lack of room (the shadow admission limit). */
    public final LongAdder shadowDropped = new LongAdder();
    /** Copies that failed (refused or an engine error) where the primary had been accepted. */
    public final LongAdder shadowFailures = new LongAdder();
    /** Copies that finished alongside their primary: the latency delta's count. */
    public final LongAdder shadowCompleted = new LongAdder();
    /** Copies whose tokens were compared with their primary's (greedy, one choice, both finished by themselves). */
    public final LongAdder shadowCompared = new LongAdder();
    /** Of those, the ones with the same tokens. */
    public final LongAdder shadowAgreements = new LongAdder();
    /** End-to-end latency of completed copies, summed, in nanoseconds. */
    public final LongAdder shadowLatencyNanos = new LongAdder();
    /** End-to-end latency of those copies' primaries, summed, in nanoseconds: the difference is the shadow's cost. */
    public final LongAdder shadowPrimaryLatencyNanos = new LongAdder();

    private final boolean[] failed = new boolean[WINDOW];
    private final long[] ttft = new long[WINDOW];
    private int next;
    private int size;

    /** One request finished: whether it failed (a server error), and its time to first token (-1 if none). */
    public synchronized void record(boolean failure, long ttftNanos) {
        requests.increment();
        if (failure) {
            failures.increment();
        }
        failed[next] = failure;
        ttft[next] = ttftNanos;
        next = (next + 1) % WINDOW;
        size = Math.min(size + 1, WINDOW);
    }

    /** The window as it stands now. */
    public synchronized Window window() {
        int failures = 0;
        long[] times = new long[size];
        int timed = 0;
        for (int i = 0; i < size; i++) {
            failures += failed[i] ? 1 : 0;
            if (!failed[i] && ttft[i] >= 0) {
                times[timed++] = ttft[i];
            }
        }
        long p99 = -1;
        if (timed > 0) {
            long[] sorted = Arrays.copyOf(times, timed);
            Arrays.sort(sorted);
            p99 = sorted[Math.min(timed - 1, (int) Math.ceil(0.99 * timed) - 1)];
        }
        return new Window(size, failures, p99);
    }

    /** Forgets the window (a new route starts judging afresh). */
    public synchronized void resetWindow() {
        next = 0;
        size = 0;
    }

    /**
     * @param requests   requests in the window
     * @param failures   of which failed
     * @param ttftP99    99th percentile time to first token of those that did not, in nanoseconds (-1: none)
     */
    public record Window(int requests, int failures, long ttftP99) {
        public double errorRate() {
            return requests == 0 ? 0 : (double) failures / requests;
        }
    }
}
