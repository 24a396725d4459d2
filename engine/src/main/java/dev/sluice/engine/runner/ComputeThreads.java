package dev.sluice.engine.runner;

import dev.sluice.bindings.IdleCpus;
import dev.sluice.bindings.ThreadTimes;
import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.ggml.Graph;
import dev.sluice.bindings.ggml.GraphSegments;

import java.util.Locale;

/**
 * Applies a {@link ThreadGovernor} to a CPU backend around every step: sets the step's thread
 * count, measures how long those threads waited in the kernel's run queue while it computed, and
 * feeds that back; logs the changes. Fixed (no governor) on other backends, with one thread, or
 * where the kernel keeps no per-thread scheduling figures. Short steps run on the backend's pool
 * whose workers spin between graphs ({@link #SPIN_MAX_TOKENS}).
 *
 * <p>A long step (a prefill of many tokens: seconds on a small CPU) is computed in segments of
 * its graph of about {@link #SEGMENT_NANOS} each ({@link #segments}), each judged by the governor
 * as a step of its own. A count chosen before the step can be wrong for most of it: a burst of
 * another process (a client starting up) halved the threads just before 31 prompts were
 * prefilled in one 10.7 s step, where two threads take about 6 s once the burst is over; now the
 * governor probes again within the step.
 *
 * <p>The threads watched are the engine thread (ggml's thread 0: the caller computes too) and the
 * pool's first {@code threads - 1} workers, the ones a step at that count uses. Engine-thread only:
 * the engine thread's id is taken on the first step, and again if another thread steps.
 */
final class ComputeThreads implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ModelRunner.class.getName());
    /** Compute time the free-CPU figure averages over: /proc/stat counts in 10 ms ticks. */
    private static final long SPARE_SAMPLE_NANOS = 200_000_000L;
    /** Wall time between readings of what other processes took: 20 ticks of /proc/stat per CPU. */
    private static final long OTHERS_SAMPLE_NANOS = 200_000_000L;
    /**
     * Compute time a segment of a long step aims at: a quarter of the governor's first hold, so a
     * count halved just before the step is tried again about a second into it. Steps shorter than
     * two segments are not cut: the governor may change the count at the next step anyway. Cutting
     * costs nothing measurable: a 1400-token prefill of a 135M model took 3.34 s whole and
     * 3.28–3.38 s in 2, 5 or 11 segments (medians of 9, alternated in one process).
     */
    static final long SEGMENT_NANOS = 250_000_000L;
    /** The most segments a step is cut into. */
    static final int MAX_SEGMENTS = 16;
    /** Steps of fewer tokens say little about the compute time of a long one (decodes read weights, not compute). */
    private static final int MIN_ESTIMATE_TOKENS = 128;
    /**
     * Steps of at most this many tokens (a few sequences decoding, no prompt) run on the pool whose
     * workers spin between graphs ({@link Backend#spinBetweenGraphs}); 0 never. Such steps follow
     * each other within a fraction of a millisecond, and a worker woken for each one arrives late
     * whenever an HTTP thread has taken its core. Measured one request at a time, requests
     * alternated one by one between llama-server (whose workers spin too) and Sluice variants up
     * at once, as Sluice's total time over llama-server's: with every step on a long-spinning pool
     * 1.014, 0.995, 1.016, 1.075 against 1.051, 1.014, 1.048, 1.097 sleeping (four runs of 14 to 20
     * requests: 1000-token shared prefix, chat-like shapes, 64 in 300 out, shared prefix); with this
     * rule 1.012, 1.056, 0.981, 1.039 against 1.078, 1.031, 0.978, 1.055 (the last 24 chat-like
     * requests). Longer steps keep the sleeping pool: at 32 concurrent requests the gaps between
     * steps carry 32 streams' writes, and spinning through every gap gave 0.98 and 0.84 of the
     * throughput in two alternated pairs of runs.
     */
    static final int SPIN_MAX_TOKENS = Integer.getInteger("sluice.spin-max-tokens", 4);

    private final Backend backend;
    private final ThreadGovernor governor;
    private final IdleCpus idle;
    private long freeBefore = -1;  // free CPU time of the host when this step started; -1: not sampled
    private long ownBefore;        // this step's threads' CPU time when it started
    private long freeSum;          // free CPU time over the sampled steps since the last look or change
    private long ownSum;           // our threads' CPU time over them
    private long computeSum;       // their compute time
    private Thread owner;
    private ThreadTimes waits;          // the engine thread and the sleeping pool's workers
    private ThreadTimes spinningWaits;  // the engine thread and the spinning pool's workers; null: never spin
    private ThreadTimes stepWaits;      // whichever of the two the step computes on
    private boolean spinNext;           // whether the step computes on the spinning pool
    private long waitBefore;
    private int stepThreads;
    // Readings of {wall, host busy, this process's CPU} nanos: the latest, taken at least
    // OTHERS_SAMPLE_NANOS after the one before it, and that one.
    private long[] lastReading;
    private long[] previousReading;
    private final GraphSegments graphSegments = new GraphSegments();
    private int forcedSegments; // tests: cut every step into this many segments, governor or not
    private int lastSegments;
    private double nanosPerToken;   // compute time per token of the last step of MIN_ESTIMATE_TOKENS or more; 0: none yet

    private ComputeThreads(Backend backend, ThreadGovernor governor) {
        this.backend = backend;
        this.governor = governor;
        this.idle = governor == null ? null : IdleCpus.open(IdleCpus.allowedCpus());
    }

    /** Adapts the backend's thread count to the host when {@code adaptive}, else leaves it be. */
    static ComputeThreads of(Backend backend, boolean adaptive) {
        boolean applies = adaptive && backend.isCpu() && backend.maxThreads() > 1
                && backend.workerThreadIds().length == backend.maxThreads() - 1;
        if (adaptive && backend.isCpu() && backend.maxThreads() > 1 && !applies) {
            LOG.log(System.Logger.Level.INFO, "compute threads stay at " + backend.maxThreads()
                    + ": the thread pool's workers cannot be told apart (an OpenMP build of llama.cpp?), so a busy host"
                    + " cannot be noticed");
        }
        return new ComputeThreads(backend, applies ? new ThreadGovernor(backend.maxThreads(), ThreadGovernor.Settings.defaults()) : null);
    }

    /**
     * Computes {@code graph}, a step of {@code tokens} tokens, in {@link #segments} segments,
     * each between {@link #beforeCompute()} and {@link #afterCompute}. Returns the threads its
     * first segment used.
     */
    int compute(Graph graph, int tokens) {
        spinNext = tokens <= SPIN_MAX_TOKENS;
        int nodes = graph.nodeCount();
        int segments = Math.min(nodes, forcedSegments > 0 ? forcedSegments : segments(tokens));
        int first = 0;
        lastSegments = Math.max(1, segments);
        long total = 0;
        for (int s = 0; s < lastSegments; s++) {
            beforeCompute();
            if (s == 0) {
                first = threads();
            }
            long start = System.nanoTime();
            if (lastSegments == 1) {
                backend.compute(graph);
            } else {
                graphSegments.compute(backend, graph, (int) ((long) nodes * s / lastSegments),
                        (int) ((long) nodes * (s + 1) / lastSegments));
            }
            long end = System.nanoTime();
            total += end - start;
            afterCompute(end, end - start);
        }
        if (tokens >= MIN_ESTIMATE_TOKENS) {
            nanosPerToken = (double) total / tokens;
        }
        return first;
    }

    /**
     * Segments a step of {@code tokens} tokens is computed in: its compute time as the last long
     * step's time per token predicts it, over {@link #SEGMENT_NANOS}. 1 unless the governor adapts
     * the threads, and until a long step was seen.
     */
    int segments(int tokens) {
        return governor == null ? 1 : segments(tokens, nanosPerToken);
    }

    /** Segments of a step of {@code tokens} tokens at {@code nanosPerToken} (0: unknown). */
    static int segments(int tokens, double nanosPerToken) {
        if (tokens < MIN_ESTIMATE_TOKENS || !(nanosPerToken > 0)) {
            return 1;
        }
        return (int) Math.clamp((long) (tokens * nanosPerToken / SEGMENT_NANOS), 1, MAX_SEGMENTS);
    }

    /** The segments the last step was computed in. */
    int lastSegments() {
        return lastSegments;
    }

    /** Tests: every step from now on is computed in {@code segments} segments (0: as {@link #segments} says). */
    void forceSegments(int segments) {
        this.forcedSegments = segments;
    }

    /** The thread count the governor would use next (the backend's when fixed). */
    int threads() {
        return governor == null ? backend.activeThreads() : governor.threads();
    }

    /** Before the step's compute: sets its thread count and notes its threads' waits so far. */
    void beforeCompute() {
        if (governor == null || !watching()) {
            backend.spinBetweenGraphs(spinNext);
            return;
        }
        stepThreads = governor.threads();
        backend.activeThreads(stepThreads);
        backend.spinBetweenGraphs(spinNext && spinningWaits != null);
        stepWaits = backend.spinning() ? spinningWaits : waits;
        waitBefore = stepWaits.waitNanos(stepThreads);
        // Below the maximum, watch how much CPU the host leaves free while we compute, for the
        // governor's next probe; at the maximum there is nothing to probe.
        freeBefore = stepThreads < governor.maxThreads() ? idle.freeNanos() : -1;
        ownBefore = freeBefore < 0 ? 0 : stepWaits.cpuNanos(stepThreads);
    }

    /** After the step's compute of {@code computeNanos}, ended at {@code endNanos} ({@link System#nanoTime()}). */
    void afterCompute(long endNanos, long computeNanos) {
        if (governor == null || stepWaits == null || !stepWaits.available()) {
            return;
        }
        long waited = stepWaits.waitNanos(stepThreads) - waitBefore;
        if (freeBefore >= 0) {
            long freeAfter = idle.freeNanos();
            if (freeAfter >= 0) {
                freeSum += freeAfter - freeBefore;
                ownSum += stepWaits.cpuNanos(stepThreads) - ownBefore;
                computeSum += computeNanos;
            }
        }
        if (stepThreads > 1 && (lastReading == null || endNanos - lastReading[0] >= OTHERS_SAMPLE_NANOS)) {
            long[] reading = reading(endNanos);
            if (reading != null) {
                previousReading = lastReading;
                lastReading = reading;
            }
        }
        ThreadGovernor.Change change = governor.onStep(endNanos, stepThreads, computeNanos, waited, this::spareCpus,
                () -> otherCpus(endNanos));
        if (change != null) {
            resetSpare(); // figures of the old thread count say nothing about the new one
            log(change);
        }
    }

    /**
     * CPUs of our affinity mask free for one more compute thread while we computed, on average over
     * the steps since the last look: the time they sat idle or ran only {@code nice}d processes,
     * plus the time our own compute threads kept them busy, less the CPUs the current count needs.
     * Only compute time counts: between steps our own CPU is free, and another server may run
     * exactly then without ever meeting ours. A niced process counts as free because it gives way
     * to ours, except when the kernel ranks it apart from us (another autogroup or cgroup): then
     * the probe fails, and the growing hold bounds what that costs. 0 until enough compute time
     * was seen (the governor looks again later, and the figures keep adding up); NaN where the
     * kernel does not say.
     */
    private double spareCpus() {
        if (!idle.available()) {
            return Double.NaN;
        }
        if (computeSum < SPARE_SAMPLE_NANOS) {
            return 0;
        }
        double spare = (double) (freeSum + ownSum) / computeSum - governor.threads();
        resetSpare();
        return spare;
    }

    /**
     * CPUs other processes kept busy, on average since a reading at least {@link #OTHERS_SAMPLE_NANOS}
     * ago: the watched CPUs' busy time (niced work included) less this process's CPU time. Our own
     * HTTP, output and GC threads are not others: fewer compute threads would not make them wait
     * less. NaN where the kernel does not say or no reading is old enough.
     */
    private double otherCpus(long nowNanos) {
        long[] base = previousReading != null ? previousReading : lastReading;
        long[] now = reading(nowNanos);
        if (base == null || now == null || now[0] - base[0] < OTHERS_SAMPLE_NANOS / 4) {
            return Double.NaN;
        }
        long others = (now[1] - base[1]) - (now[2] - base[2]);
        return Math.max(0, (double) others / (now[0] - base[0]));
    }

    /** {wall, host busy, own CPU} nanos now; null where either figure is unavailable. */
    private long[] reading(long nowNanos) {
        long busy = idle.busyNanos();
        long own = ProcessHandle.current().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(-1L);
        return busy < 0 || own < 0 ? null : new long[] {nowNanos, busy, own};
    }

    private void resetSpare() {
        freeSum = 0;
        ownSum = 0;
        computeSum = 0;
    }

    /** Opens the run-queue figures of this thread and the workers on the first step of each engine thread. */
    private boolean watching() {
        Thread current = Thread.currentThread();
        if (owner != current) {
            owner = current;
            closeWaits();
            resetSpare(); // its own-CPU figure was of other threads
            long engineThread = ThreadTimes.currentThreadId();
            waits = open(engineThread, backend.workerThreadIds());
            // The spinning pool only where its threads can be watched too: else a busy host would
            // go unnoticed for as long as steps are short.
            long[] spinningWorkers = backend.spinningWorkerThreadIds();
            if (spinningWorkers.length == backend.maxThreads() - 1 && spinningWorkers.length > 0) {
                spinningWaits = open(engineThread, spinningWorkers);
                if (!spinningWaits.available()) {
                    spinningWaits.close();
                    spinningWaits = null;
                }
            }
            if (engineThread < 0 || !waits.available()) {
                LOG.log(System.Logger.Level.INFO, "compute threads stay at " + backend.activeThreads()
                        + ": this kernel keeps no per-thread scheduling figures (/proc/self/task/*/schedstat),"
                        + " so a busy host cannot be noticed");
            }
        }
        return waits.available();
    }

    private static ThreadTimes open(long engineThread, long[] workers) {
        if (engineThread < 0) {
            return ThreadTimes.open();
        }
        long[] ids = new long[workers.length + 1];
        ids[0] = engineThread;
        System.arraycopy(workers, 0, ids, 1, workers.length);
        return ThreadTimes.open(ids);
    }

    private void closeWaits() {
        if (waits != null) {
            waits.close();
            waits = null;
        }
        if (spinningWaits != null) {
            spinningWaits.close();
            spinningWaits = null;
        }
        stepWaits = null;
    }

    private static void log(ThreadGovernor.Change c) {
        String waited = String.format(Locale.ROOT, "its threads waited for a CPU %.0f%% of %s compute time",
                100 * c.waitShare(), c.windowSteps() == 1 ? "the last step's" : "the last " + c.windowSteps() + " steps'");
        String next = c.holdNanos() > 0 ? String.format(Locale.ROOT, "; trying %d again once a CPU is free (looking in %.0f s)",
                c.from(), c.holdNanos() / 1e9) : "";
        switch (c.reason()) {
            case STARVED -> LOG.log(System.Logger.Level.INFO, "compute threads " + c.from() + " -> " + c.to()
                    + ": the host is busy, " + waited + next);
            case RECOVERED -> LOG.log(System.Logger.Level.INFO, "compute threads " + c.from() + " -> " + c.to()
                    + ": the host has CPUs to spare again");
            case PROBE -> LOG.log(System.Logger.Level.DEBUG, "trying " + c.to() + " compute threads");
            case PROBE_FAILED -> LOG.log(System.Logger.Level.DEBUG, "back to " + c.to() + " compute thread"
                    + (c.to() == 1 ? "" : "s") + ": " + waited + String.format(Locale.ROOT, "; next try in %.0f s", c.holdNanos() / 1e9));
        }
    }

    @Override
    public void close() {
        graphSegments.close();
        if (idle != null) {
            idle.close();
        }
        closeWaits();
    }
}
