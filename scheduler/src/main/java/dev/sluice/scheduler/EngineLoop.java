package dev.sluice.scheduler;

import dev.sluice.engine.step.ModelExecutor;
import dev.sluice.engine.text.TokenTexts;
import dev.sluice.scheduler.metrics.EngineMetrics;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One served model's engine: the work of the thread that owns it (its {@link ComputeLane}, shared
 * with the other models on the same device). Each iteration it admits submitted requests
 * ({@link ActiveRequests}), ends those that were cancelled, timed out or whose client stopped
 * reading, asks the {@link Scheduler} for a step and carries it out ({@link StepExecution}: the
 * {@link ModelExecutor} returns sampled tokens, the {@link OutputProcessor} turns them into text
 * for each request's {@link RequestStream}). The lane decides when it gets an iteration.
 *
 * <p>Handler threads only call {@link #submit}, {@link Request#cancel()} and read streams; all
 * native state (model, KV cache, samplers) is touched on the lane's thread alone, behind the executor.
 *
 * <p><b>Failures stay as small as they can.</b> A failure while setting up, sampling or finishing
 * one request fails that request alone. A failed step fails the requests in it and the loop goes
 * on. Only when {@value #MAX_CONSECUTIVE_STEP_FAILURES} steps in a row fail, or the JVM itself
 * gives out (a {@link VirtualMachineError}), does the loop stop: {@link #health()} then says why,
 * every request left gets an error, and the {@link #onFailure} listener learns of it so the
 * process can exit and be restarted.
 *
 * <p><b>Requests end on their own</b> at their deadline ({@link Request#withTimeout}, finish
 * reason {@link FinishReason#TIMEOUT}) and when their client has not read their output for
 * {@link Limits#stalledClientTimeout()} (cancelled, its KV blocks freed).
 */
public final class EngineLoop implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(EngineLoop.class.getName());
    /** Failed steps in a row after which the engine is taken to be broken (its native state, most likely). */
    static final int MAX_CONSECUTIVE_STEP_FAILURES = 3;

    /**
     * @param stalledClientTimeout  a request whose client has not taken its output for this long is
     *                              cancelled (until then it is only paused, and preempted first)
     * @param stallTimeout          a loop that has spent this long in one iteration is reported not live
     */
    public record Limits(Duration stalledClientTimeout, Duration stallTimeout) {
        public static final Limits DEFAULT = new Limits(Duration.ofSeconds(30), Duration.ofSeconds(120));

        public Limits {
            if (stalledClientTimeout.isNegative() || stalledClientTimeout.isZero() || stallTimeout.isNegative()
                    || stallTimeout.isZero()) {
                throw new IllegalArgumentException("loop limits must be positive: " + stalledClientTimeout + ", " + stallTimeout);
            }
        }
    }

    /** Liveness: whether the loop is running and making progress, and if not, why. */
    public record Health(boolean live, String reason) {
        static final Health LIVE = new Health(true, null);
    }

    /** The loop cannot go on; carries the failure that made it stop. */
    private static final class EngineFailure extends RuntimeException {
        EngineFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Scheduler scheduler;
    private final Supplier<ModelExecutor> executorFactory;
    private final EngineMetrics metrics;
    private final Limits limits;
    private final ActiveRequests requests;
    private final StepExecution steps;
    private final ConcurrentLinkedQueue<Request> inbox = new ConcurrentLinkedQueue<>();
    private volatile ComputeLane lane;
    private volatile boolean accepting = true;
    private volatile boolean released;
    private volatile boolean detaching;
    private volatile Throwable failure;
    private volatile Runnable onFailure = () -> { };
    /** When the current iteration began; 0 while idle. What liveness watches. */
    private volatile long iterationStartNanos;
    private int consecutiveStepFailures;
    private ModelExecutor executor;

    /**
     * @param executorFactory creates the model executor, on the engine thread (its native state is
     *                        confined to that thread); the loop closes it when it ends
     * @param texts           the vocabulary's token texts, for the output
     */
    public EngineLoop(Scheduler scheduler, Supplier<ModelExecutor> executorFactory, TokenTexts texts,
                      EngineMetrics metrics, Limits limits) {
        this.limits = limits;
        this.scheduler = scheduler;
        this.executorFactory = executorFactory;
        this.metrics = metrics;
        OutputProcessor output = new OutputProcessor(texts);
        this.requests = new ActiveRequests(scheduler, output, metrics);
        this.steps = new StepExecution(scheduler, requests, output, metrics);
    }

    /** The lane that drives this loop (set by {@link ComputeLane#attach}). */
    void lane(ComputeLane lane) {
        this.lane = lane;
    }

    public EngineMetrics metrics() {
        return metrics;
    }

    /**
     * Queues a request. Throws {@link RequestRejectedException} at once, before any work, if it
     * could never complete, and {@link IllegalStateException} once shutting down.
     */
    public Request submit(Request request) {
        if (!accepting) {
            throw new IllegalStateException("the engine is shutting down");
        }
        if (failure != null) {
            throw new IllegalStateException("the engine stopped after an internal error: " + describe(failure));
        }
        scheduler.validate(request);
        requests.submitted();
        inbox.add(request);
        ComputeLane l = lane;
        if (l != null) {
            l.signal();
        }
        return request;
    }

    /** Requests submitted and not yet finished. */
    public int pendingRequests() {
        return requests.pending();
    }

    /** Called once, on the engine thread, if the loop stops because of a failure. */
    public void onFailure(Runnable listener) {
        this.onFailure = listener;
    }

    /** The failure that stopped the loop, or null. */
    public Throwable failure() {
        return failure;
    }

    /**
     * Liveness: not live once the loop has stopped on a failure, or while one iteration (one
     * step, mostly native compute) has run longer than {@link Limits#stallTimeout()}.
     */
    public Health health() {
        Throwable f = failure;
        if (f != null) {
            return new Health(false, "the engine stopped after an internal error: " + describe(f));
        }
        if (released && !detaching) {
            return new Health(false, "the engine has stopped");
        }
        long since = iterationStartNanos;
        long stalled = since == 0 ? 0 : System.nanoTime() - since;
        if (stalled > limits.stallTimeout().toNanos()) {
            return new Health(false, "the engine has made no progress for " + TimeUnit.NANOSECONDS.toSeconds(stalled)
                    + " s (one step running since then)");
        }
        return Health.LIVE;
    }

    /**
     * One iteration on the calling thread: admits new requests, applies cancellations, and runs one
     * scheduled step. Returns false when nothing could run. Its {@link ComputeLane} calls it;
     * tests call it directly, without a lane, for deterministic runs.
     */
    boolean runOnce() {
        iterationStartNanos = System.nanoTime();
        try {
            return iterate();
        } finally {
            iterationStartNanos = 0;
        }
    }

    private boolean iterate() {
        if (executor == null) {
            executor = executorFactory.get();
            requests.executor(executor);
            steps.executor(executor);
        }
        for (Request request; (request = inbox.poll()) != null; ) {
            requests.admit(request);
        }
        requests.endExpired(limits.stalledClientTimeout());
        if (!scheduler.hasWork()) {
            publishGauges();
            return false;
        }
        boolean worked;
        try {
            SchedulerStep step = scheduler.schedule();
            worked = !step.isEmpty();
            if (worked) {
                steps.run(step);
                consecutiveStepFailures = 0;
            }
        } catch (RuntimeException e) {
            stepFailed(e);
            worked = true;
        }
        publishGauges();
        return worked;
    }

    /**
     * A step failed (the forward pass, a block copy or swap, the scheduler): its requests get an
     * error and the others go on, unless steps keep failing.
     */
    private void stepFailed(RuntimeException e) {
        List<Sequence> sequences = List.copyOf(scheduler.lastStep().sequences());
        LOG.log(System.Logger.Level.ERROR, "engine step failed for " + sequences.size() + " sequences", e);
        metrics.stepFailures.increment();
        for (Sequence seq : sequences) {
            requests.abort(seq.request(), FinishReason.ERROR, "internal error while running the model: " + describe(e));
        }
        if (++consecutiveStepFailures >= MAX_CONSECUTIVE_STEP_FAILURES) {
            EngineFailure fatal = new EngineFailure(consecutiveStepFailures + " engine steps failed in a row, the last with: "
                    + describe(e), e);
            failure = fatal;
            throw fatal;
        }
    }

    static String describe(Throwable t) {
        String message = t.getMessage();
        return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
    }

    /** Cancels whatever is left and closes the executor; the loop accepts nothing after this. */
    void release() {
        accepting = false;
        if (released) {
            return;
        }
        released = true;
        if (executor != null) {
            for (Request request; (request = inbox.poll()) != null; ) {
                requests.admit(request);
            }
            requests.abortAll(failure == null ? null : "the engine stopped: " + describe(failure));
            executor.close();
            executor = null;
        } else {
            for (Request request; (request = inbox.poll()) != null; ) {
                request.stream().fail("the engine stopped before it started");
            }
        }
        publishGauges();
    }

    /** The lane gave up on this loop after {@code t}: everything left fails, and the listener learns of it. */
    void failed(Throwable t) {
        if (failure == null) {
            failure = t;
        }
        release();
        try {
            onFailure.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "engine failure listener failed", e);
        }
    }

    /** New requests are refused from now on (the loop is being detached). */
    void stopAccepting() {
        detaching = true;
        accepting = false;
    }

    /** Whether the scheduler has sequences (running, waiting, swapped, possibly paused). */
    boolean hasWork() {
        return scheduler.hasWork();
    }

    /** Work, or requests waiting to be admitted. */
    boolean hasWorkOrArrivals() {
        return !inbox.isEmpty() || scheduler.hasWork();
    }

    /** Something to do even without a step: arrivals, or requests to cancel or time out. */
    boolean needsAttention() {
        return !inbox.isEmpty() || requests.anyToEnd(System.nanoTime(), limits.stalledClientTimeout());
    }

    /**
     * Detaches from its lane, letting in-flight requests finish for up to {@code drain}; returns once
     * the lane has let go. Without a lane, releases at once.
     */
    public void shutdown(Duration drain) {
        ComputeLane l = lane;
        if (l == null) {
            release();
            return;
        }
        l.detach(this, drain).join();
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    private void publishGauges() {
        requests.publishGauges();
    }
}
