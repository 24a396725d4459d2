package dev.sluice.scheduler;

import dev.sluice.engine.runner.Batch;
import dev.sluice.engine.runner.Logits;
import dev.sluice.engine.sampling.SampledToken;
import dev.sluice.engine.sampling.SamplingWorkspace;
import dev.sluice.engine.text.StopStringMatcher;
import dev.sluice.engine.text.Tokenizer;
import dev.sluice.scheduler.kv.BlockCopies;
import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvCacheManager;
import dev.sluice.scheduler.metrics.EngineMetrics;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The one thread that owns the model: it takes submitted requests, asks the {@link Scheduler}
 * for a step, has the {@link ModelExecutor} run it, samples the next token of every sequence
 * that produced logits, turns tokens into text, applies stop conditions, and delivers the
 * output to each request's {@link RequestStream}. Idle, it sleeps until a request arrives.
 *
 * <p>Handler threads only call {@link #submit}, {@link Request#cancel()} and read streams; all
 * native state (model, KV cache, samplers) is touched here alone.
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
    /** How long an idle loop with paused (back-pressured) requests waits before re-checking. */
    private static final long PAUSED_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
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
    private final ModelExecutor executor;
    private final Tokenizer tokenizer;
    private final Supplier<SamplingWorkspace> workspaceFactory;
    private final EngineMetrics metrics;
    private final int maxModelLength;
    private final Limits limits;
    private final ConcurrentLinkedQueue<Request> inbox = new ConcurrentLinkedQueue<>();
    /** Submitted and not yet finished, counted exactly (the gauges lag by up to a step). */
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private final Map<String, Request> active = new LinkedHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final Batch batch = new Batch();
    private final Thread thread;
    private volatile boolean accepting = true;
    private volatile boolean stopping;
    private volatile long drainDeadlineNanos = Long.MAX_VALUE;
    private volatile Throwable failure;
    private volatile Runnable onFailure = () -> { };
    /** When the current iteration began; 0 while idle. What liveness watches. */
    private volatile long iterationStartNanos;
    private int consecutiveStepFailures;
    private SamplingWorkspace workspace;

    /**
     * @param workspaceFactory creates the samplers' shared buffer, on the engine thread
     */
    public EngineLoop(Scheduler scheduler, ModelExecutor executor, Tokenizer tokenizer,
                      Supplier<SamplingWorkspace> workspaceFactory, EngineMetrics metrics) {
        this(scheduler, executor, tokenizer, workspaceFactory, metrics, Limits.DEFAULT);
    }

    public EngineLoop(Scheduler scheduler, ModelExecutor executor, Tokenizer tokenizer,
                      Supplier<SamplingWorkspace> workspaceFactory, EngineMetrics metrics, Limits limits) {
        this.limits = limits;
        this.scheduler = scheduler;
        this.executor = executor;
        this.tokenizer = tokenizer;
        this.workspaceFactory = workspaceFactory;
        this.metrics = metrics;
        this.maxModelLength = scheduler.config().maxModelLength();
        this.thread = Thread.ofPlatform().name("sluice-engine").daemon(false).unstarted(this::run);
    }

    public void start() {
        thread.start();
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
        inFlight.incrementAndGet();
        inbox.add(request);
        signal();
        return request;
    }

    /** Requests submitted and not yet finished. */
    public int pendingRequests() {
        return inFlight.get();
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
        if (thread.getState() == Thread.State.TERMINATED && !stopping) {
            return new Health(false, "the engine thread has ended");
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
     * Stops accepting requests, lets in-flight ones finish for up to {@code drain}, cancels what is
     * left, and stops the thread. The executor is closed by the caller afterwards.
     */
    public void shutdown(Duration drain) throws InterruptedException {
        accepting = false;
        drainDeadlineNanos = System.nanoTime() + drain.toNanos();
        stopping = true;
        signal();
        thread.join();
    }

    @Override
    public void close() {
        try {
            shutdown(Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void signal() {
        lock.lock();
        try {
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        try {
            while (true) {
                iterationStartNanos = System.nanoTime();
                boolean worked;
                try {
                    worked = runOnce();
                } finally {
                    iterationStartNanos = 0;
                }
                if (stopping && (System.nanoTime() > drainDeadlineNanos || !scheduler.hasWork())) {
                    break;
                }
                if (!worked) {
                    idle(scheduler.hasWork() ? PAUSED_WAIT_NANOS : Long.MAX_VALUE);
                }
            }
        } catch (Throwable t) {
            failure = t;
            LOG.log(System.Logger.Level.ERROR, "engine loop stopped", t);
        } finally {
            release();
            if (failure != null) {
                try {
                    onFailure.run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "engine failure listener failed", e);
                }
            }
        }
    }

    /**
     * One iteration on the calling thread: admits new requests, applies cancellations, and runs one
     * scheduled step. Returns false when nothing could run. The engine thread calls it in a loop;
     * tests call it directly, without {@link #start()}, for deterministic runs.
     */
    boolean runOnce() {
        if (workspace == null) {
            workspace = workspaceFactory.get();
        }
        admit();
        endExpired();
        if (!scheduler.hasWork()) {
            publishGauges();
            return false;
        }
        boolean worked;
        try {
            SchedulerStep step = scheduler.schedule();
            worked = !step.isEmpty();
            if (worked) {
                runStep(step);
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
            abort(seq.request(), FinishReason.ERROR, "internal error while running the model: " + describe(e));
        }
        if (++consecutiveStepFailures >= MAX_CONSECUTIVE_STEP_FAILURES) {
            EngineFailure fatal = new EngineFailure(consecutiveStepFailures + " engine steps failed in a row, the last with: "
                    + describe(e), e);
            failure = fatal;
            throw fatal;
        }
    }

    private static String describe(Throwable t) {
        String message = t.getMessage();
        return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
    }

    /** Cancels whatever is left and frees the samplers' buffer; the loop accepts nothing after this. */
    void release() {
        accepting = false;
        admit();
        for (Request request : List.copyOf(active.values())) {
            abort(request, FinishReason.CANCELLED, failure == null ? null : "the engine stopped: " + failure);
        }
        publishGauges();
        if (workspace != null) {
            workspace.close();
            workspace = null;
        }
    }

    private void idle(long nanos) throws InterruptedException {
        lock.lock();
        try {
            if (inbox.isEmpty() && !stopping && !anyToEnd(System.nanoTime())) {
                if (nanos == Long.MAX_VALUE) {
                    wake.await();
                } else {
                    wake.awaitNanos(nanos);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void admit() {
        for (Request request; (request = inbox.poll()) != null; ) {
            active.put(request.id(), request);
            Sequence first = request.sequences().getFirst();
            try {
                Generation generation = new Generation(request, 0, tokenizer, workspace);
                first.generation(generation);
                generation.sampler.acceptPrompt(request.prompt());
            } catch (RuntimeException | OutOfMemoryError e) {
                // The request's own setup failed (its sampler, its tables): it alone fails.
                LOG.log(System.Logger.Level.WARNING, "could not start " + request + ": " + describe(e));
                active.remove(request.id());
                if (first.generation != null) {
                    ((Generation) first.generation).close();
                }
                metrics.requestsFailed.increment();
                request.stream().fail("could not start the request: " + describe(e));
                inFlight.decrementAndGet();
                continue;
            }
            metrics.promptTokens.add(request.promptLength());
            scheduler.add(request);
        }
    }

    /** Whether some active request is cancelled, past its deadline, or has a client that stopped reading. */
    private boolean anyToEnd(long now) {
        long stalledNanos = limits.stalledClientTimeout().toNanos();
        for (Request request : active.values()) {
            if (request.isCancelled() || request.isPastDeadline(now) || request.stream().isStalled(now, stalledNanos)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Ends requests that were cancelled (client gone), ran past their deadline, or whose client
     * has not read their output for {@link Limits#stalledClientTimeout()}.
     */
    private void endExpired() {
        long now = System.nanoTime();
        if (!anyToEnd(now)) {
            return;
        }
        long stalledNanos = limits.stalledClientTimeout().toNanos();
        for (Request request : List.copyOf(active.values())) {
            if (request.isCancelled()) {
                abort(request, FinishReason.CANCELLED, null);
            } else if (request.isPastDeadline(now)) {
                timeOut(request);
            } else if (request.stream().isStalled(now, stalledNanos)) {
                LOG.log(System.Logger.Level.INFO, "cancelling " + request + ": its client has not read its output for "
                        + limits.stalledClientTimeout().toSeconds() + " s");
                metrics.stalledClientsCancelled.increment();
                abort(request, FinishReason.CANCELLED, null);
            }
        }
    }

    private void runStep(SchedulerStep step) {
        long start = System.nanoTime();
        int[] swapOut = step.swapOuts();
        for (int i = 0; i < swapOut.length; i += 2) {
            executor.swapOut(swapOut[i], swapOut[i + 1]);
        }
        int[] swapIn = step.swapIns();
        for (int i = 0; i < swapIn.length; i += 2) {
            executor.swapIn(swapIn[i], swapIn[i + 1]);
        }
        BlockCopies copies = step.copies();
        for (int i = 0; i < copies.size(); i++) {
            executor.copyBlock(copies.source(i), copies.target(i));
        }

        List<Sequence> sequences = step.sequences();
        int blockSize = scheduler.kvCache().blockSize();
        batch.clear();
        for (int i = 0; i < sequences.size(); i++) {
            Sequence seq = sequences.get(i);
            int count = step.newTokens(i);
            int end = seq.computed() + count;
            batch.add(seq.tokenArray(), seq.computed(), count, seq.computed(), seq.blocks().ids(),
                    (end + blockSize - 1) / blockSize, end == seq.length() ? Batch.Logits.LAST : Batch.Logits.NONE);
        }
        Logits logits = executor.forward(batch);
        scheduler.complete(step);

        long now = System.nanoTime();
        for (int i = 0; i < sequences.size(); i++) {
            Sequence seq = sequences.get(i);
            if (seq.isFinished() || seq.pending() != 0) {
                continue;
            }
            MemorySegment row = logits.lastRowOf(i);
            List<Sequence> targets = new ArrayList<>(1);
            targets.add(seq);
            try {
                for (Sequence sibling : scheduler.fork(seq)) {
                    targets.add(sibling);
                    Generation own = new Generation(seq.request(), sibling.index(), tokenizer, workspace);
                    sibling.generation(own);
                    own.sampler.acceptPrompt(seq.request().prompt());
                }
            } catch (RuntimeException | OutOfMemoryError e) {
                abort(seq.request(), FinishReason.ERROR, "could not start the request's choices: " + describe(e));
                continue;
            }
            for (Sequence target : targets) {
                if (!target.isFinished()) {
                    sampleAndEmit(target, row, now);
                }
            }
        }
        metrics.stepTime.record((System.nanoTime() - start) / 1e9);
        metrics.stepTokens.record(step.tokenCount());
        metrics.stepSequences.record(sequences.size());
    }

    /** Samples one token for {@code seq} and delivers it; a failure here fails its request alone. */
    private void sampleAndEmit(Sequence seq, MemorySegment logitsRow, long now) {
        try {
            sample(seq, logitsRow, now);
        } catch (RuntimeException | OutOfMemoryError e) {
            LOG.log(System.Logger.Level.WARNING, "sampling failed for " + seq.request() + ": " + describe(e));
            abort(seq.request(), FinishReason.ERROR, "sampling failed: " + describe(e));
        }
    }

    private void sample(Sequence seq, MemorySegment logitsRow, long now) {
        Request request = seq.request();
        Generation generation = seq.generation();
        SampledToken sampled = generation.sampler.sample(logitsRow);
        generation.sampler.accept(sampled.token());
        int token = sampled.token();
        scheduler.append(seq, token);
        metrics.generationTokens.increment();
        if (seq.firstTokenNanos == 0) {
            seq.firstTokenNanos = now;
            if (firstTokenOfRequest(request, seq)) {
                metrics.timeToFirstToken.record((now - request.arrivalNanos()) / 1e9);
            }
        } else {
            metrics.interTokenLatency.record((now - seq.lastTokenNanos) / 1e9);
        }
        seq.lastTokenNanos = now;

        boolean endOfGeneration = !request.stop().ignoreEos() && tokenizer.isEndOfGeneration(token);
        if (endOfGeneration || request.stop().isStopToken(token)) {
            finishSequence(seq, FinishReason.STOP);
            return;
        }
        String text = generation.detokenizer.append(token);
        StopStringMatcher.Result result = generation.stops.offer(text);
        request.stream().emit(seq.index(), result.text(), token, generation.logprobs ? sampled : null);
        if (result.stopped()) {
            finishSequence(seq, FinishReason.STOP);
        } else if (seq.outputLength() >= request.stop().maxTokens() || seq.length() >= maxModelLength) {
            finishSequence(seq, FinishReason.LENGTH);
        }
    }

    private static boolean firstTokenOfRequest(Request request, Sequence seq) {
        for (Sequence other : request.sequences()) {
            if (other != seq && other.firstTokenNanos != 0) {
                return false;
            }
        }
        return true;
    }

    /** Ends a sequence that stopped on its own; ends its request when it was the last one. */
    private void finishSequence(Sequence seq, FinishReason reason) {
        endSequence(seq, reason);
        Request request = seq.request();
        if (request.sequences().size() == request.n() && request.sequences().stream().allMatch(Sequence::isFinished)) {
            completeRequest(request, reason);
        }
    }

    private void endSequence(Sequence seq, FinishReason reason) {
        Request request = seq.request();
        Generation generation = seq.generation();
        if (reason != FinishReason.CANCELLED && reason != FinishReason.ERROR && generation != null) {
            // Release what was held back (an unfinished UTF-8 character, a partial stop-string match).
            String tail = generation.stops.offer(generation.detokenizer.flush()).text() + generation.stops.flush();
            request.stream().emitText(seq.index(), tail);
        }
        scheduler.finish(seq, reason);
        if (generation != null) {
            generation.close();
        }
        request.stream().finish(seq.index(), reason);
    }

    /** Choices not forked yet (the prompt was still being computed) end with their request. */
    private static void finishUnforked(Request request, FinishReason reason) {
        for (int i = request.sequences().size(); i < request.n(); i++) {
            request.stream().finish(i, reason);
        }
    }

    /** The request's deadline passed: every choice ends as it is, its output kept. */
    private void timeOut(Request request) {
        for (Sequence seq : request.sequences()) {
            if (!seq.isFinished()) {
                endSequence(seq, FinishReason.TIMEOUT);
            }
        }
        finishUnforked(request, FinishReason.TIMEOUT);
        completeRequest(request, FinishReason.TIMEOUT);
    }

    private void completeRequest(Request request, FinishReason lastReason) {
        active.remove(request.id());
        long now = System.nanoTime();
        int completion = 0;
        long firstToken = Long.MAX_VALUE;
        boolean anyLength = false;
        for (Sequence seq : request.sequences()) {
            completion += seq.outputLength();
            if (seq.firstTokenNanos != 0) {
                firstToken = Math.min(firstToken, seq.firstTokenNanos);
            }
            anyLength |= seq.finishReason() == FinishReason.LENGTH;
        }
        int cached = request.sequences().getFirst().cachedPromptTokens();
        request.stream().complete(new RequestUsage(request.promptLength(), completion, cached,
                firstToken == Long.MAX_VALUE ? -1 : firstToken - request.arrivalNanos(), now - request.arrivalNanos()));
        inFlight.decrementAndGet(); // after complete(): pending never reads 0 while a consumer still waits
        metrics.endToEndLatency.record((now - request.arrivalNanos()) / 1e9);
        switch (lastReason) {
            case CANCELLED -> metrics.requestsAborted.increment();
            case ERROR -> metrics.requestsFailed.increment();
            case TIMEOUT -> {
                metrics.requestsTimedOut.increment();
                metrics.requestsFinishedLength.increment();
            }
            default -> (anyLength ? metrics.requestsFinishedLength : metrics.requestsFinishedStop).increment();
        }
    }

    /** Ends every unfinished sequence of a request; with an error message, the stream fails. */
    private void abort(Request request, FinishReason reason, String error) {
        if (!active.containsKey(request.id())) {
            return;
        }
        for (Sequence seq : request.sequences()) {
            if (!seq.isFinished()) {
                scheduler.finish(seq, reason);
                if (seq.generation != null) {
                    ((Generation) seq.generation).close();
                }
                request.stream().finish(seq.index(), reason);
            }
        }
        finishUnforked(request, reason);
        if (error != null) {
            active.remove(request.id());
            metrics.requestsFailed.increment();
            request.stream().fail(error);
            inFlight.decrementAndGet();
        } else {
            completeRequest(request, reason);
        }
    }

    private void publishGauges() {
        KvCacheManager kv = scheduler.kvCache();
        BlockPool pool = kv.pool();
        int blockSize = kv.blockSize();
        // One pass over the requests. vLLM counts requests, not sequences: a request counts in
        // every state one of its sequences is in.
        int running = 0;
        int waiting = 0;
        int swapped = 0;
        long unfilledSlots = 0; // slots of running sequences' blocks that hold no computed token yet
        for (Request request : active.values()) {
            boolean isRunning = false;
            boolean isWaiting = false;
            boolean isSwapped = false;
            for (Sequence seq : request.sequences()) {
                switch (seq.status()) {
                    case RUNNING -> {
                        isRunning = true;
                        unfilledSlots += Math.max(0, (long) seq.blocks().size() * blockSize - seq.computed());
                    }
                    case WAITING -> isWaiting = true;
                    case SWAPPED -> isSwapped = true;
                    default -> { }
                }
            }
            running += isRunning ? 1 : 0;
            waiting += isWaiting ? 1 : 0;
            swapped += isSwapped ? 1 : 0;
        }
        metrics.update(running, waiting, swapped, pool.size(), pool.usedCount(), pool.cachedFreeCount(),
                unfilledSlots, blockSize, kv.prefixQueryTokens(), kv.prefixHitTokens(), scheduler.preemptions());
    }
}
