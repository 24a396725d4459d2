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
 */
public final class EngineLoop implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(EngineLoop.class.getName());
    /** How long an idle loop with paused (back-pressured) requests waits before re-checking. */
    private static final long PAUSED_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final Scheduler scheduler;
    private final ModelExecutor executor;
    private final Tokenizer tokenizer;
    private final Supplier<SamplingWorkspace> workspaceFactory;
    private final EngineMetrics metrics;
    private final int maxModelLength;
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
    private SamplingWorkspace workspace;

    /**
     * @param workspaceFactory creates the samplers' shared buffer, on the engine thread
     */
    public EngineLoop(Scheduler scheduler, ModelExecutor executor, Tokenizer tokenizer,
                      Supplier<SamplingWorkspace> workspaceFactory, EngineMetrics metrics) {
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
            throw new IllegalStateException("the engine stopped after an internal error: " + failure);
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
                boolean worked = runOnce();
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
        cancelRequested();
        if (!scheduler.hasWork()) {
            publishGauges();
            return false;
        }
        SchedulerStep step = scheduler.schedule();
        if (!step.isEmpty()) {
            runStep(step);
        }
        publishGauges();
        return !step.isEmpty();
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
            if (inbox.isEmpty() && !stopping && !anyCancelled()) {
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
            } catch (RuntimeException e) {
                active.remove(request.id());
                metrics.requestsFailed.increment();
                request.stream().fail(e.getMessage());
                inFlight.decrementAndGet();
                continue;
            }
            metrics.promptTokens.add(request.promptLength());
            scheduler.add(request);
        }
    }

    private boolean anyCancelled() {
        long now = System.nanoTime();
        for (Request request : active.values()) {
            if (request.isCancelled() || request.isPastDeadline(now)) {
                return true;
            }
        }
        return false;
    }

    /** Ends requests that were cancelled (client gone) or ran past their deadline. */
    private void cancelRequested() {
        if (!anyCancelled()) {
            return;
        }
        long now = System.nanoTime();
        for (Request request : List.copyOf(active.values())) {
            if (request.isCancelled() || request.isPastDeadline(now)) {
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
        Logits logits;
        try {
            logits = executor.forward(batch);
        } catch (RuntimeException e) {
            // The step's sequences cannot continue; others keep being served.
            LOG.log(System.Logger.Level.ERROR, "forward pass failed for " + sequences.size() + " sequences", e);
            for (Sequence seq : List.copyOf(sequences)) {
                abort(seq.request(), FinishReason.ERROR, "internal error while running the model: " + e.getMessage());
            }
            return;
        }
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
            for (Sequence sibling : scheduler.fork(seq)) {
                Generation own = new Generation(seq.request(), sibling.index(), tokenizer, workspace);
                sibling.generation(own);
                own.sampler.acceptPrompt(seq.request().prompt());
                targets.add(sibling);
            }
            for (Sequence target : targets) {
                sampleAndEmit(target, row, now);
            }
        }
        metrics.stepTime.record((System.nanoTime() - start) / 1e9);
        metrics.stepTokens.record(step.tokenCount());
        metrics.stepSequences.record(sequences.size());
    }

    private void sampleAndEmit(Sequence seq, MemorySegment logitsRow, long now) {
        Request request = seq.request();
        Generation generation = seq.generation();
        SampledToken sampled;
        try {
            sampled = generation.sampler.sample(logitsRow);
            generation.sampler.accept(sampled.token());
        } catch (RuntimeException e) {
            abort(request, FinishReason.ERROR, "sampling failed: " + e.getMessage());
            return;
        }
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

    private void finishSequence(Sequence seq, FinishReason reason) {
        Request request = seq.request();
        Generation generation = seq.generation();
        if (reason != FinishReason.CANCELLED && reason != FinishReason.ERROR) {
            // Release what was held back (an unfinished UTF-8 character, a partial stop-string match).
            String tail = generation.stops.offer(generation.detokenizer.flush()).text() + generation.stops.flush();
            request.stream().emitText(seq.index(), tail);
        }
        scheduler.finish(seq, reason);
        generation.close();
        request.stream().finish(seq.index(), reason);
        if (request.sequences().size() == request.n() && request.sequences().stream().allMatch(Sequence::isFinished)) {
            completeRequest(request, reason);
        }
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
