package dev.sluice.engine.runner;

import dev.sluice.bindings.IdleCpus;
import dev.sluice.bindings.ThreadTimes;
import dev.sluice.bindings.ggml.Backend;

import java.util.Locale;

/**
 * Applies a {@link ThreadGovernor} to a CPU backend around every step: sets the step's thread
 * count, measures how long those threads waited in the kernel's run queue while it computed, and
 * feeds that back; logs the changes. Fixed (no governor) on other backends, with one thread, or
 * where the kernel keeps no per-thread scheduling figures.
 *
 * <p>The threads watched are the engine thread (ggml's thread 0: the caller computes too) and the
 * pool's first {@code threads - 1} workers, the ones a step at that count uses. Engine-thread only:
 * the engine thread's id is taken on the first step, and again if another thread steps.
 */
final class ComputeThreads implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ModelRunner.class.getName());

    private final Backend backend;
    private final ThreadGovernor governor;
    private final IdleCpus idle;
    private long idleBaseline = -1;
    private long ownBaseline;
    private long baselineAt;
    private Thread owner;
    private ThreadTimes waits;
    private long waitBefore;
    private int stepThreads;

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

    /** The thread count the governor would use next (the backend's when fixed). */
    int threads() {
        return governor == null ? backend.activeThreads() : governor.threads();
    }

    /** Before the step's compute: sets its thread count and notes its threads' waits so far. */
    void beforeCompute() {
        if (governor == null || !watching()) {
            return;
        }
        stepThreads = governor.threads();
        backend.activeThreads(stepThreads);
        waitBefore = waits.waitNanos(stepThreads);
    }

    /** After the step's compute of {@code computeNanos}, ended at {@code endNanos} ({@link System#nanoTime()}). */
    void afterCompute(long endNanos, long computeNanos) {
        if (governor == null || waits == null || !waits.available()) {
            return;
        }
        long waited = waits.waitNanos(stepThreads) - waitBefore;
        ThreadGovernor.Change change = governor.onStep(endNanos, stepThreads, computeNanos, waited, this::spareCpus);
        if (change != null) {
            spareCpus(); // the next look at idle CPUs starts from this change
            log(change);
        }
    }

    /**
     * CPUs of our affinity mask free for one more compute thread, on average since the last call:
     * the time they sat idle or ran only {@code nice}d processes, plus the time our own compute
     * threads kept them busy, less the CPUs the current count needs. Our own idle time between
     * requests is no spare CPU; another process's busy time is none either, unless it is niced.
     * (A niced process ranked apart from us, in another autogroup or cgroup, does not give way:
     * then the probe fails, and the growing hold bounds what that costs.) NaN the first time or
     * where the kernel does not say.
     */
    private double spareCpus() {
        // The governor's count: unchanged since the last call, which a change always follows.
        int threads = governor.threads();
        long now = System.nanoTime();
        long idleNow = idle.freeNanos();
        long ownNow = waits.cpuNanos(threads);
        double spare = Double.NaN;
        if (idleBaseline >= 0 && idleNow >= 0 && now > baselineAt) {
            double span = now - baselineAt;
            spare = (idleNow - idleBaseline) / span + (ownNow - ownBaseline) / span - threads;
        }
        idleBaseline = idleNow;
        ownBaseline = ownNow;
        baselineAt = now;
        return spare;
    }

    /** Opens the run-queue figures of this thread and the workers on the first step of each engine thread. */
    private boolean watching() {
        Thread current = Thread.currentThread();
        if (owner != current) {
            owner = current;
            if (waits != null) {
                waits.close();
            }
            idleBaseline = -1; // its own-CPU figure was of other threads
            long[] workers = backend.workerThreadIds();
            long[] ids = new long[workers.length + 1];
            ids[0] = ThreadTimes.currentThreadId();
            System.arraycopy(workers, 0, ids, 1, workers.length);
            waits = ids[0] < 0 ? ThreadTimes.open() : ThreadTimes.open(ids);
            if (ids[0] < 0 || !waits.available()) {
                LOG.log(System.Logger.Level.INFO, "compute threads stay at " + backend.activeThreads()
                        + ": this kernel keeps no per-thread scheduling figures (/proc/self/task/*/schedstat),"
                        + " so a busy host cannot be noticed");
            }
        }
        return waits.available();
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
        if (idle != null) {
            idle.close();
        }
        if (waits != null) {
            waits.close();
            waits = null;
        }
    }
}
