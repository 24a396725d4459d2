package dev.sluice.scheduler;

import dev.sluice.engine.step.ModelExecutor;
import dev.sluice.scheduler.metrics.EngineMetrics;

import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvCacheManager;

import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The requests the engine thread is working on, and how each one ends: every sequence finished
 * (usage delivered, metrics counted), cancelled, timed out, or failed. Whatever way a sequence
 * ends, its blocks go back to the scheduler, its sampler state to the executor, and its text
 * state to the output processor, so nothing outlives it. Engine-thread only, except
 * {@link #pending()}.
 */
final class ActiveRequests {

    private final Scheduler scheduler;
    private final OutputProcessor output;
    private final EngineMetrics metrics;
    private final Map<String, Request> active = new LinkedHashMap<>();
    /** Submitted and not yet finished, counted exactly (the gauges lag by up to a step). */
    private final AtomicInteger inFlight = new AtomicInteger();
    private ModelExecutor executor;

    ActiveRequests(Scheduler scheduler, OutputProcessor output, EngineMetrics metrics) {
        this.scheduler = scheduler;
        this.output = output;
        this.metrics = metrics;
    }

    /** The executor whose sampler state sequences hold (created on the engine thread). */
    void executor(ModelExecutor executor) {
        this.executor = executor;
    }

    /** A request was submitted (any thread). */
    void submitted() {
        inFlight.incrementAndGet();
    }

    /** Requests submitted and not yet finished. */
    int pending() {
        return inFlight.get();
    }

    Collection<Request> all() {
        return active.values();
    }

    boolean isEmpty() {
        return active.isEmpty();
    }

    /**
     * Starts a submitted request: its first sequence's sampler, then the scheduler's queue. A
     * request whose sampler cannot be built fails alone.
     */
    void admit(Request request) {
        active.put(request.id(), request);
        try {
            executor.startSequence(request.sequences().getFirst().id(), request.sampling(), request.prompt());
        } catch (RuntimeException | OutOfMemoryError e) {
            System.getLogger(ActiveRequests.class.getName()).log(System.Logger.Level.WARNING,
                    "could not start " + request + ": " + EngineLoop.describe(e));
            active.remove(request.id());
            metrics.requestsFailed.increment();
            request.stream().fail("could not start the request: " + EngineLoop.describe(e));
            inFlight.decrementAndGet();
            return;
        }
        metrics.promptTokens.add(request.promptLength());
        scheduler.add(request);
    }

    /** A sequence stopped on its own (stop, length); ends its request when it was the last one. */
    void finish(Sequence seq, FinishReason reason) {
        end(seq, reason);
        Request request = seq.request();
        if (request.sequences().size() == request.n() && request.sequences().stream().allMatch(Sequence::isFinished)) {
            complete(request, reason);
        }
    }

    /** The request's deadline passed: every choice ends as it is, its output kept. */
    void timeOut(Request request) {
        for (Sequence seq : request.sequences()) {
            if (!seq.isFinished()) {
                end(seq, FinishReason.TIMEOUT);
            }
        }
        finishUnforked(request, FinishReason.TIMEOUT);
        complete(request, FinishReason.TIMEOUT);
    }

    /** Ends every unfinished sequence of a request; with an error message, the stream fails. */
    void abort(Request request, FinishReason reason, String error) {
        if (!active.containsKey(request.id())) {
            return;
        }
        for (Sequence seq : request.sequences()) {
            if (!seq.isFinished()) {
                end(seq, reason);
            }
        }
        finishUnforked(request, reason);
        if (error != null) {
            active.remove(request.id());
            metrics.requestsFailed.increment();
            request.stream().fail(error);
            inFlight.decrementAndGet();
        } else {
            complete(request, reason);
        }
    }

    /** Aborts everything left, with {@code error} (null: cancelled). */
    void abortAll(String error) {
        for (Request request : List.copyOf(active.values())) {
            abort(request, FinishReason.CANCELLED, error);
        }
    }

    private void end(Sequence seq, FinishReason reason) {
        boolean natural = reason != FinishReason.CANCELLED && reason != FinishReason.ERROR;
        if (natural) {
            output.flush(seq);
        } else {
            output.drop(seq);
        }
        scheduler.finish(seq, reason);
        executor.endSequence(seq.id());
        seq.request().stream().finish(seq.index(), reason);
    }

    /** Choices not forked yet (the prompt was still being computed) end with their request. */
    private static void finishUnforked(Request request, FinishReason reason) {
        for (int i = request.sequences().size(); i < request.n(); i++) {
            request.stream().finish(i, reason);
        }
    }

    private void complete(Request request, FinishReason lastReason) {
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
                firstToken == Long.MAX_VALUE ? -1 : firstToken - request.arrivalNanos(), now - request.arrivalNanos(),
                request.computeNanos()));
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

    /** Whether some active request is cancelled, past its deadline, or has a client that stopped reading. */
    boolean anyToEnd(long now, Duration stalledClientTimeout) {
        long stalledNanos = stalledClientTimeout.toNanos();
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
    void endExpired(Duration stalledClientTimeout) {
        long now = System.nanoTime();
        if (!anyToEnd(now, stalledClientTimeout)) {
            return;
        }
        long stalledNanos = stalledClientTimeout.toNanos();
        for (Request request : List.copyOf(active.values())) {
            if (request.isCancelled()) {
                abort(request, FinishReason.CANCELLED, null);
            } else if (request.isPastDeadline(now)) {
                timeOut(request);
            } else if (request.stream().isStalled(now, stalledNanos)) {
                System.getLogger(ActiveRequests.class.getName()).log(System.Logger.Level.INFO, "cancelling " + request
                        + ": its client has not read its output for " + stalledClientTimeout.toSeconds() + " s");
                metrics.stalledClientsCancelled.increment();
                abort(request, FinishReason.CANCELLED, null);
            }
        }
    }

    /** Publishes the queue and KV gauges (after every iteration). */
    void publishGauges() {
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
