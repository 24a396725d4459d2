package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SamplingParams;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A generation request: the prompt, how to sample, when to stop, and how many sequences
 * ({@code n}) to generate from it. Created by the API on a handler thread; from submission on,
 * only the engine thread changes its sequences. {@link #cancel()} may be called from any thread.
 */
public final class Request {

    /** The next free sequence id; each request takes {@code n} consecutive ones. */
    private static final AtomicLong NEXT_SEQUENCE_ID = new AtomicLong();

    private final String id;
    private final int[] prompt;
    private final SamplingParams sampling;
    private final StopConditions stop;
    private final int n;
    private final int priority;
    private final long cacheSalt;
    private final long arrivalNanos;
    private final RequestStream stream;
    private final List<Sequence> sequences;
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final long firstSequenceId;
    /** Admission order, set by the scheduler: breaks arrival-time ties deterministically. */
    long order;
    /** The scheduler's step in which {@link #scheduledCount} sequences were scheduled (its fair share). */
    private long countedStep = -1;
    /** Its share of the engine steps it was in (engine thread only): see {@link #addComputeNanos}. */
    private long computeNanos;
    private int scheduledCount;
    private volatile long deadlineNanos = Long.MAX_VALUE;
    private PromptOutputs promptOutputs = PromptOutputs.NONE;

    /**
     * @param priority   lower runs first (as in vLLM); equal priorities are first-come first-served
     * @param cacheSalt  mixed into prefix-cache hashes: requests with different salts never share KV
     */
    public Request(String id, int[] prompt, SamplingParams sampling, StopConditions stop, int n, int priority,
                   long cacheSalt) {
        this(id, prompt, sampling, stop, n, priority, cacheSalt, RequestStream.BACKPRESSURE_CHARS);
    }

    /** With a custom back-pressure threshold (tests). */
    Request(String id, int[] prompt, SamplingParams sampling, StopConditions stop, int n, int priority,
            long cacheSalt, int backpressureChars) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        if (n < 1) {
            throw new IllegalArgumentException("n must be at least 1: " + n);
        }
        this.id = id;
        this.prompt = prompt.clone();
        this.sampling = sampling;
        this.stop = stop;
        this.n = n;
        this.priority = priority;
        this.cacheSalt = cacheSalt;
        this.arrivalNanos = System.nanoTime();
        this.firstSequenceId = NEXT_SEQUENCE_ID.getAndAdd(n);
        this.stream = new RequestStream(n, backpressureChars);
        List<Sequence> list = new ArrayList<>(n);
        list.add(new Sequence(this, 0));
        this.sequences = list;
    }

    public String id() {
        return id;
    }

    public int[] prompt() {
        return prompt.clone();
    }

    public int promptLength() {
        return prompt.length;
    }

    int promptToken(int i) {
        return prompt[i];
    }

    public SamplingParams sampling() {
        return sampling;
    }

    public StopConditions stop() {
        return stop;
    }

    public int n() {
        return n;
    }

    public int priority() {
        return priority;
    }

    public long cacheSalt() {
        return cacheSalt;
    }

    /**
     * Adds this request's share of one step's time (its tokens' share of the step's tokens): what
     * the request cost the engine, for usage and cost accounting. Engine thread only.
     */
    void addComputeNanos(long nanos) {
        computeNanos += nanos;
    }

    long computeNanos() {
        return computeNanos;
    }

    public long arrivalNanos() {
        return arrivalNanos;
    }

    /** The id of its first sequence; choice {@code i} is {@code firstSequenceId() + i}. */
    public long firstSequenceId() {
        return firstSequenceId;
    }

    /** Where the request's output goes; the API reads it. */
    public RequestStream stream() {
        return stream;
    }

    /** Its sequences so far: one until the prompt is prefilled, then {@code n}. Engine thread only. */
    public List<Sequence> sequences() {
        return Collections.unmodifiableList(sequences);
    }

    /** Sequences of this request scheduled so far in step {@code step}. */
    int scheduledIn(long step) {
        return countedStep == step ? scheduledCount : 0;
    }

    void countScheduled(long step) {
        if (countedStep != step) {
            countedStep = step;
            scheduledCount = 0;
        }
        scheduledCount++;
    }

    void addSequence(Sequence sequence) {
        sequences.add(sequence);
    }

    /**
     * Cancels the request once {@code timeout} has passed since it arrived (the engine checks every
     * step); its streams end with finish reason {@code abort}.
     */
    public Request withTimeout(java.time.Duration timeout) {
        deadlineNanos = arrivalNanos + timeout.toNanos();
        return this;
    }

    /** True once its deadline, if any, has passed. */
    public boolean isPastDeadline(long nowNanos) {
        return nowNanos - deadlineNanos > 0;
    }

    /**
     * Asks for the prompt's embedding or log-probabilities (before submission). An embedding
     * request, or one with {@code maxTokens} 0, is prefill-only: it samples nothing and ends
     * once its prompt has run.
     */
    public Request withPromptOutputs(PromptOutputs outputs) {
        promptOutputs = java.util.Objects.requireNonNull(outputs);
        return this;
    }

    public PromptOutputs promptOutputs() {
        return promptOutputs;
    }

    /** Runs its prompt and nothing else: an embedding, or {@code max_tokens} 0. */
    public boolean prefillOnly() {
        return promptOutputs.embed() || stop.maxTokens() == 0;
    }

    /** Asks the engine to stop this request; it frees its KV blocks within one step. */
    public void cancel() {
        if (cancelled.compareAndSet(false, true)) {
            stream.wakeUp();
        }
    }

    public boolean isCancelled() {
        return cancelled.get();
    }

    @Override
    public String toString() {
        return "Request[" + id + ", prompt " + prompt.length + " tokens, n=" + n + "]";
    }
}
