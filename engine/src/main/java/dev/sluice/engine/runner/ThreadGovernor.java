package dev.sluice.engine.runner;

import java.util.function.DoubleSupplier;

/**
 * Chooses how many CPU threads compute the next step, from how long the threads of the last steps
 * waited for a CPU.
 *
 * <p>Why: ggml's compute threads meet at a spinning barrier after every graph node, about a
 * thousand times per step, so a step runs at the pace of its slowest thread. On a busy host
 * (sidecars, other containers, a compile, a CPU quota) the kernel parks one of our threads for a
 * whole time slice while the others spin at the next barrier, again and again: a 10 ms step takes
 * a second. With fewer threads than the CPUs we actually get, no thread waits for a parked one;
 * one thread is slower than two on an idle host but hundreds of times faster on a starved one.
 *
 * <p>How: steps are judged in windows of at least {@link Settings#windowNanos} of compute or
 * {@link Settings#windowSteps} steps, all at one thread count. A window is <em>starved</em> when
 * its threads together spent more than {@link Settings#starvedShare} of its compute time ready to
 * run but without a CPU (their run-queue wait). Then:
 * <ul>
 *   <li>starved at the settled count: halve the threads (at least one);</li>
 *   <li>calm at fewer threads than the maximum, once the hold time has passed and if the host
 *       had most of a CPU free meanwhile: probe one thread more (a starved window at one thread
 *       probes nothing: more threads would wait longer);</li>
 *   <li>starved on a probe: go back, and hold twice as long before the next probe (up to
 *       {@link Settings#maxHoldNanos}), so a host that stays busy costs one bad window per hold;</li>
 *   <li>calm on a probe: the new count is settled, the hold starts over.</li>
 * </ul>
 * A single very slow step closes its window at once, so a starved step is followed by at most one
 * more at the same count.
 *
 * <p>Pure: fed step measurements with their time, no clock or I/O of its own, so tests drive it
 * deterministically. Not thread-safe (engine thread).
 */
public final class ThreadGovernor {

    /**
     * @param starvedShare   run-queue wait over compute time above which a window is starved
     * @param windowNanos    compute time that closes a window
     * @param windowSteps    steps that close a window
     * @param firstHoldNanos time at a reduced count before the first probe
     * @param maxHoldNanos   longest hold after failed probes
     * @param minSpareCpus   free CPU time, in CPUs, the host must have had since the last decision
     *                       for a probe to be worth it (see {@link #onStep(long, int, long, long, DoubleSupplier)})
     * @param recheckNanos   when there was not, how long until the next look
     * @param minOtherCpus   CPU time, in CPUs, other processes must have taken lately for a starved
     *                       window to cost threads (0: any starved window does)
     */
    public record Settings(double starvedShare, long windowNanos, int windowSteps, long firstHoldNanos,
                           long maxHoldNanos, double minSpareCpus, long recheckNanos, double minOtherCpus) {

        public Settings {
            if (!(starvedShare > 0) || windowNanos <= 0 || windowSteps <= 0 || firstHoldNanos <= 0
                    || maxHoldNanos < firstHoldNanos || !(minSpareCpus >= 0) || recheckNanos <= 0
                    || !(minOtherCpus >= 0)) {
                throw new IllegalArgumentException("invalid governor settings: " + this);
            }
        }

        /** Settings where any starved window costs threads, whoever made it wait. */
        public Settings(double starvedShare, long windowNanos, int windowSteps, long firstHoldNanos,
                        long maxHoldNanos, double minSpareCpus, long recheckNanos) {
            this(starvedShare, windowNanos, windowSteps, firstHoldNanos, maxHoldNanos, minSpareCpus, recheckNanos, 0);
        }

        /**
         * Half the compute time waiting. Halving pays when the wait share exceeds about
         * (s - 1) / s, s being what the second half of the threads speeds a step up: 0.5 for
         * perfectly parallel steps. Measured with bin/contention on 2 cores: serving HTTP while
         * computing, Sluice's own threads and its client make two compute threads wait 26-44% of
         * a step even on an idle host, and two threads still answer 13% faster than one; a thread
         * parked for another process shows 98-150%. 50 ms windows judge a few steps of a small
         * model. A probe needs half a CPU to have been free while we computed: one more thread
         * needs a CPU nobody else wants. Holds of 1 s doubling to 32 s bound what probing costs
         * where that figure misleads (one bad window, about one slow step, every half minute); a
         * quarter second between looks lets the free-CPU figure (in 10 ms ticks) add up.
         *
         * <p>Our own threads and a client on the same host can push the share past a half without
         * any process wanting the CPUs for long: bin/head-to-head's one-request-at-a-time run saw
         * 51-96% windows with its load generator as the only other process (under a tenth of a
         * CPU), dropped to one thread six times in 20 s, and lost 5% of its tokens/s to it. A
         * starved window therefore costs threads only when other processes took at least a
         * quarter of a CPU lately (niced or not: a niced loop in another autogroup parks our
         * threads all the same); the busy loops and compiles of bin/contention take one or more.
         */
        public static Settings defaults() {
            return new Settings(0.5, 50_000_000L, 16, 1_000_000_000L, 32_000_000_000L, 0.5, 250_000_000L, 0.25);
        }
    }

    /** Why the thread count changed. */
    public enum Reason {
        /** The settled count's threads waited too long for CPUs: fewer threads. */
        STARVED,
        /** Calm for the hold time: trying one thread more. */
        PROBE,
        /** The probe's threads waited too long: back to the settled count, a longer hold. */
        PROBE_FAILED,
        /** The probe was calm: its count is the settled one now. */
        RECOVERED
    }

    /**
     * A decision worth logging. {@code from} and {@code to} are thread counts ({@link Reason#RECOVERED}:
     * the settled count before and after the probe); {@code waitShare} is the judged window's
     * run-queue wait over its compute time; {@code holdNanos} how long until the next probe (0: none
     * planned, the maximum is reached).
     */
    public record Change(Reason reason, int from, int to, double waitShare, int windowSteps, long holdNanos) {
    }

    private final int maxThreads;
    private final Settings settings;

    private int threads;         // the count the next step uses
    private int settled;         // the last count judged calm (or the start)
    private long holdNanos;      // the current hold between probes
    private long probeAtNanos;   // earliest time of the next probe, set whenever threads < maxThreads

    private long windowCompute;
    private long windowWait;
    private int windowSteps;

    public ThreadGovernor(int maxThreads, Settings settings) {
        if (maxThreads < 1) {
            throw new IllegalArgumentException("maxThreads must be positive: " + maxThreads);
        }
        this.maxThreads = maxThreads;
        this.settings = settings;
        this.threads = maxThreads;
        this.settled = maxThreads;
        this.holdNanos = settings.firstHoldNanos();
    }

    /** The thread count the next step should use. */
    public int threads() {
        return threads;
    }

    public int maxThreads() {
        return maxThreads;
    }

    /**
     * Records one computed step.
     *
     * @param nowNanos     when it ended, on any monotonic clock (e.g. {@link System#nanoTime()})
     * @param stepThreads  the threads it used; a step at another count than {@link #threads()} is ignored
     * @param computeNanos its compute time
     * @param waitNanos    the run-queue wait of its threads during that time, summed
     * @return the change this step caused, or null when the count stays
     */
    public Change onStep(long nowNanos, int stepThreads, long computeNanos, long waitNanos) {
        return onStep(nowNanos, stepThreads, computeNanos, waitNanos, () -> Double.NaN, () -> Double.NaN);
    }

    /** As {@link #onStep(long, int, long, long, DoubleSupplier, DoubleSupplier)} with no figure of other processes' CPU. */
    public Change onStep(long nowNanos, int stepThreads, long computeNanos, long waitNanos, DoubleSupplier spareCpus) {
        return onStep(nowNanos, stepThreads, computeNanos, waitNanos, spareCpus, () -> Double.NaN);
    }

    /**
     * As {@link #onStep(long, int, long, long)}, and before a probe asks {@code spareCpus} how many
     * CPUs one more thread would have found free lately (as the caller measures it): below
     * {@link Settings#minSpareCpus} the probe waits {@link Settings#recheckNanos} and asks again,
     * so a host that stays busy costs no probes at all. NaN: unknown, probe anyway. And before a
     * starved window at the settled count halves it, asks {@code otherCpus} how many CPUs other
     * processes took lately: below {@link Settings#minOtherCpus} the wait was our own threads' or a
     * client's burst, which fewer compute threads would not avoid, and the count stays. NaN:
     * unknown, halve anyway.
     */
    public Change onStep(long nowNanos, int stepThreads, long computeNanos, long waitNanos, DoubleSupplier spareCpus,
                         DoubleSupplier otherCpus) {
        if (stepThreads != threads || computeNanos < 0 || waitNanos < 0) {
            return null;
        }
        windowCompute += computeNanos;
        windowWait += waitNanos;
        windowSteps++;
        if (windowCompute < settings.windowNanos() && windowSteps < settings.windowSteps()) {
            return null;
        }
        double share = windowCompute == 0 ? 0 : (double) windowWait / windowCompute;
        int steps = windowSteps;
        windowCompute = 0;
        windowWait = 0;
        windowSteps = 0;
        boolean starved = share > settings.starvedShare();
        boolean probing = threads > settled;

        if (probing) {
            int probed = threads;
            if (starved) {
                threads = settled;
                holdNanos = Math.min(holdNanos * 2, settings.maxHoldNanos());
                probeAtNanos = nowNanos + holdNanos;
                return new Change(Reason.PROBE_FAILED, probed, threads, share, steps, holdNanos);
            }
            int before = settled;
            settled = threads;
            holdNanos = settings.firstHoldNanos();
            probeAtNanos = nowNanos + holdNanos;
            return new Change(Reason.RECOVERED, before, settled, share, steps, settled < maxThreads ? holdNanos : 0);
        }
        if (starved) {
            if (threads == 1) {
                return null; // nothing fewer to try, and more would wait longer still
            }
            if (settings.minOtherCpus() > 0 && otherCpus.getAsDouble() < settings.minOtherCpus()) { // false for NaN
                return null; // nobody else wants the CPUs: fewer threads would only be slower
            }
            int before = threads;
            threads = Math.max(1, threads / 2);
            settled = threads;
            holdNanos = settings.firstHoldNanos();
            probeAtNanos = nowNanos + holdNanos;
            return new Change(Reason.STARVED, before, threads, share, steps, holdNanos);
        }
        if (threads < maxThreads && nowNanos - probeAtNanos >= 0) {
            double spare = spareCpus.getAsDouble();
            if (spare < settings.minSpareCpus()) { // false for NaN
                probeAtNanos = nowNanos + settings.recheckNanos();
                return null;
            }
            int before = threads;
            threads++;
            return new Change(Reason.PROBE, before, threads, share, steps, 0);
        }
        return null;
    }
}
