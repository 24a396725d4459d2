package dev.sluice.scheduler.metrics;

import java.util.concurrent.atomic.LongAdder;

/**
 * The engine's numbers for {@code /metrics}, named after vLLM's so its dashboards translate:
 * queue gauges, KV cache usage, prefix-cache queries and hits, preemptions, token counters and
 * latency histograms. The engine thread writes; anyone may read.
 */
public final class EngineMetrics {

    private static final double[] LATENCY_SECONDS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
            0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0};
    private static final double[] STEP_SECONDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
            1.0, 2.5, 5.0};
    private static final double[] BATCH_TOKENS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};

    // gauges, published by the engine thread after every step
    private volatile int requestsRunning;
    private volatile int requestsWaiting;
    private volatile int requestsSwapped;
    private volatile int kvBlocksTotal;
    private volatile int kvBlocksUsed;
    private volatile int kvBlocksCachedFree;
    private volatile long prefixQueryTokens;
    private volatile long prefixHitTokens;
    private volatile long preemptions;
    private volatile long kvSlotsUnfilled;
    private volatile int kvBlocksPeak;
    private volatile double kvWasteAtPeak;

    public final LongAdder promptTokens = new LongAdder();
    public final LongAdder generationTokens = new LongAdder();
    public final LongAdder requestsFinishedStop = new LongAdder();
    public final LongAdder requestsFinishedLength = new LongAdder();
    public final LongAdder requestsAborted = new LongAdder();
    public final LongAdder requestsFailed = new LongAdder();
    /** Requests ended by their deadline (also counted as finished by length). */
    public final LongAdder requestsTimedOut = new LongAdder();
    /** Requests cancelled because their client stopped reading. */
    public final LongAdder stalledClientsCancelled = new LongAdder();
    /** Engine steps that failed (their requests got an error; the engine went on). */
    public final LongAdder stepFailures = new LongAdder();
    /** Engine time in forward passes and in sampling, in nanoseconds: what sampling costs per step. */
    public final LongAdder forwardNanos = new LongAdder();
    public final LongAdder samplingNanos = new LongAdder();
    /**
     * KV rows per layer that attention gathered into logical order, and the rows the steps'
     * sequences attended to: their ratio is the share read through a gather (the rest in place,
     * or once for a group sharing a prefix).
     */
    public final LongAdder kvRowsGathered = new LongAdder();
    public final LongAdder kvRowsAttended = new LongAdder();

    public final Histogram timeToFirstToken = new Histogram(LATENCY_SECONDS);
    public final Histogram interTokenLatency = new Histogram(LATENCY_SECONDS);
    public final Histogram endToEndLatency = new Histogram(LATENCY_SECONDS);
    public final Histogram stepTime = new Histogram(STEP_SECONDS);
    public final Histogram stepTokens = new Histogram(BATCH_TOKENS);
    public final Histogram stepSequences = new Histogram(BATCH_TOKENS);

    /**
     * Publishes the gauges; called by the engine loop after every step. {@code slotsUnfilled}
     * counts the slots of in-use blocks that hold no token yet: each running sequence's empty
     * tail (a partial last block shared by {@code n > 1} siblings counts once per sibling, so
     * this is an upper bound).
     */
    public void update(int running, int waiting, int swapped, int blocksTotal, int blocksUsed, int blocksCachedFree,
                       long slotsUnfilled, int blockSize, long queryTokens, long hitTokens, long preemptionCount) {
        requestsRunning = running;
        requestsWaiting = waiting;
        requestsSwapped = swapped;
        kvBlocksTotal = blocksTotal;
        kvBlocksUsed = blocksUsed;
        kvBlocksCachedFree = blocksCachedFree;
        kvSlotsUnfilled = slotsUnfilled;
        if (blocksUsed > 0 && blocksUsed >= kvBlocksPeak) {
            kvBlocksPeak = blocksUsed;
            kvWasteAtPeak = (double) slotsUnfilled / ((long) blocksUsed * blockSize);
        }
        prefixQueryTokens = queryTokens;
        prefixHitTokens = hitTokens;
        preemptions = preemptionCount;
    }

    public int requestsRunning() {
        return requestsRunning;
    }

    public int requestsWaiting() {
        return requestsWaiting;
    }

    public int requestsSwapped() {
        return requestsSwapped;
    }

    public int kvBlocksTotal() {
        return kvBlocksTotal;
    }

    public int kvBlocksUsed() {
        return kvBlocksUsed;
    }

    /** Free blocks that still hold reusable prefix-cache content. */
    public int kvBlocksCachedFree() {
        return kvBlocksCachedFree;
    }

    public int kvBlocksFree() {
        return kvBlocksTotal - kvBlocksUsed;
    }

    /** Fraction of KV blocks in use, 0 to 1 (vLLM's {@code kv_cache_usage_perc}). */
    public double kvCacheUsage() {
        int total = kvBlocksTotal;
        return total == 0 ? 0 : (double) kvBlocksUsed / total;
    }

    /** Slots in blocks in use that hold no token (an upper bound; see {@link #update}). */
    public long kvSlotsUnfilled() {
        return kvSlotsUnfilled;
    }

    /** The most KV blocks in use after any step so far. */
    public int kvBlocksPeak() {
        return kvBlocksPeak;
    }

    /**
     * Fraction of the allocated slots that held no token at the step with the most blocks in use
     * so far (the latest such step): the memory paging wastes when it matters most.
     */
    public double kvWasteAtPeak() {
        return kvWasteAtPeak;
    }

    public long prefixCacheQueryTokens() {
        return prefixQueryTokens;
    }

    public long prefixCacheHitTokens() {
        return prefixHitTokens;
    }

    public long preemptions() {
        return preemptions;
    }
}
