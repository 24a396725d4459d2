package dev.sluice.scheduler;

import java.util.List;
import java.util.NavigableSet;

/**
 * How background work (Batch API lines, shadow copies: requests at {@link #PRIORITY} or behind)
 * shares steps with foreground (client) requests.
 *
 * <p>Priority alone orders the queue but not the compute: on a CPU a step's time grows with the
 * tokens in it, so sixteen batch lines decoding beside four chats, or a batch prompt chunk in the
 * step that prefills a chat's prompt, make every chat slower whatever its place in the queue.
 * While any foreground sequence is running, waiting or swapped, background sequences therefore
 * <ul>
 *   <li>get no tokens in a step that prefills a foreground prompt or computes its last token
 *       (that step is a chat's time to first token), and</li>
 *   <li>in any other step get as many tokens as make it at most the {@linkplain
 *       #BackgroundPolicy(double) slack} longer than it would be without them, by a cost model
 *       fitted to the steps the engine ran (time = fixed + per token × tokens): few on a CPU,
 *       where a step's time follows its tokens; many on a GPU, where a decode step's time is
 *       mostly reading the weights once. So a chat arriving during a step waits at most that much
 *       longer for it, and its own prefill step is not slowed.</li>
 * </ul>
 * After {@link #MAX_HELD_STEPS} steps in a row without a token they get their share anyway, so a
 * stream of chat prompts cannot starve a batch. Foreground work counts as present for
 * {@link #LINGER_NANOS} after the last of it: a client that sends its next request as soon as its
 * last one ends would otherwise find a whole background step (sixteen lines and their prompt
 * chunks) started in the gap, and wait for it. With no foreground work for longer, background
 * work takes the whole step.
 *
 * <p>For {@link #GRACE_NANOS} after a foreground request finishes, background work gets nothing:
 * its client (an agent, a load generator, a chat front end calling the model again) often sends
 * the next request at once, and a step it arrives in is one it waits out before its prefill. With
 * other foreground work running those steps carry it alone (within {@link #MAX_HELD_STEPS}); with
 * none the engine idles until the request arrives or the grace ends.
 */
final class BackgroundPolicy {

    /** Requests at this priority or behind (a larger number) are background work. */
    static final int PRIORITY = 100_000;
    /** Background tokens per step beside foreground work until the cost model has a fit. */
    static final int DEFAULT_TOKENS = 8;
    /** The most background tokens per step beside foreground work, whatever the fit says. */
    static final int MAX_TOKENS = 256;
    /** Steps in a row background work may be held back entirely before it gets its share anyway. */
    static final int MAX_HELD_STEPS = 8;
    /** How long foreground work counts as present after the last of it (ms: {@code -Dsluice.background-linger-ms}). */
    static final long LINGER_NANOS = Long.getLong("sluice.background-linger-ms", 250) * 1_000_000L;
    /**
     * How long after a foreground request finishes background work gets nothing (ms:
     * {@code -Dsluice.background-grace-ms}): about the time a client takes to send its next
     * request once its last one ended, on a loaded host.
     */
    static final long GRACE_NANOS = Long.getLong("sluice.background-grace-ms", 25) * 1_000_000L;
    /** Weight of the past in the cost fit per observed step (about the last 200 steps count). */
    private static final double DECAY = 0.995;

    /** How much longer background tokens may make a step with foreground work in it (a fraction). */
    private final double slack;
    private int heldSteps;
    private long lastForegroundNanos = Long.MIN_VALUE / 2;
    private long lastForegroundFinishNanos = Long.MIN_VALUE / 2;
    // Decayed sums for a least-squares fit of step nanos against step tokens.
    private double n;
    private double sumX;
    private double sumY;
    private double sumXx;
    private double sumXy;

    /** @param slack how much longer background tokens may make a step with foreground work in it ({@link SchedulerConfig#backgroundSlack}) */
    BackgroundPolicy(double slack) {
        this.slack = slack;
    }

    double slack() {
        return slack;
    }

    static boolean isBackground(Sequence seq) {
        return seq.request().priority() >= PRIORITY;
    }

    /** Whether a foreground sequence is running, waiting or swapped ({@code running} sorted, {@code waiting} ordered by priority). */
    static boolean foregroundPresent(List<Sequence> running, NavigableSet<Sequence> waiting, List<Sequence> swapped) {
        if (!running.isEmpty() && !isBackground(running.getFirst())) {
            return true; // sorted: a foreground sequence comes first
        }
        if (!waiting.isEmpty() && !isBackground(waiting.first())) {
            return true;
        }
        for (Sequence seq : swapped) {
            if (!isBackground(seq)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a background sequence waits, is swapped, or runs with a client reading it. */
    static boolean hasBackgroundWork(List<Sequence> running, NavigableSet<Sequence> waiting, List<Sequence> swapped) {
        if (!waiting.isEmpty() && isBackground(waiting.last())) {
            return true;
        }
        for (Sequence seq : swapped) {
            if (isBackground(seq)) {
                return true;
            }
        }
        for (Sequence seq : running) {
            if (isBackground(seq) && !seq.request().stream().isBackedUp()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether background work must share steps now: foreground work is present, or was within
     * {@link #LINGER_NANOS}.
     */
    boolean sharing(boolean foregroundPresent, long nowNanos) {
        if (foregroundPresent) {
            lastForegroundNanos = nowNanos;
            return true;
        }
        return nowNanos - lastForegroundNanos < LINGER_NANOS;
    }

    /** Records that a foreground request finished (or was cancelled) at {@code nowNanos}. */
    void foregroundFinished(long nowNanos) {
        lastForegroundFinishNanos = nowNanos;
    }

    /** Whether a foreground request finished less than {@link #GRACE_NANOS} ago: background work then waits. */
    boolean inGrace(long nowNanos) {
        return nowNanos - lastForegroundFinishNanos < GRACE_NANOS;
    }

    /** Records a step the engine ran: {@code tokens} computed in {@code nanos}. */
    void observe(int tokens, long nanos) {
        if (tokens <= 0 || nanos <= 0) {
            return;
        }
        double x = tokens;
        double y = nanos;
        n = n * DECAY + 1;
        sumX = sumX * DECAY + x;
        sumY = sumY * DECAY + y;
        sumXx = sumXx * DECAY + x * x;
        sumXy = sumXy * DECAY + x * y;
    }

    /**
     * A step's fixed cost in tokens' worth (fixed / per-token time), or NaN while the steps seen
     * so far do not fit a line with a positive slope (too few, or all of one size).
     */
    double fixedCostInTokens() {
        double varianceX = n * sumXx - sumX * sumX;
        if (n < 16 || varianceX < n * n) { // token counts' standard deviation under 1
            return Double.NaN;
        }
        double perToken = (n * sumXy - sumX * sumY) / varianceX;
        double fixed = (sumY - perToken * sumX) / n;
        if (!(perToken > 0)) {
            return Double.NaN;
        }
        return Math.max(0, fixed / perToken);
    }

    /**
     * The tokens background sequences may take in this step.
     *
     * @param foregroundPresent   a foreground sequence is running, waiting or swapped
     * @param prefillsForeground  the step computes part of a foreground prompt
     * @param foregroundTokens    the foreground tokens already in the step
     * @param nowNanos            now (for the {@linkplain #inGrace grace} after a foreground request)
     */
    int allowance(boolean foregroundPresent, boolean prefillsForeground, int foregroundTokens, long nowNanos) {
        if (!foregroundPresent) {
            return Integer.MAX_VALUE;
        }
        if ((prefillsForeground || inGrace(nowNanos)) && heldSteps < MAX_HELD_STEPS) {
            return 0;
        }
        double fixed = fixedCostInTokens();
        if (Double.isNaN(fixed)) {
            return DEFAULT_TOKENS;
        }
        // fixed + fg + bg <= (1 + slack)(fixed + fg)  <=>  bg <= slack (fixed + fg)
        return (int) Math.max(1, Math.min(MAX_TOKENS, slack * (fixed + foregroundTokens)));
    }

    /** Records whether background work that wanted to run got tokens in the step just planned. */
    void record(boolean wanted, boolean ran) {
        heldSteps = wanted && !ran ? heldSteps + 1 : 0;
    }
}
