package dev.sluice.api.openai;

import dev.sluice.api.Admission;
import dev.sluice.api.http.ApiException;
import dev.sluice.scheduler.EngineService;
import dev.sluice.scheduler.FinishReason;
import dev.sluice.scheduler.PromptOutputs;
import dev.sluice.scheduler.Request;
import dev.sluice.scheduler.RequestRejectedException;
import dev.sluice.scheduler.RequestUpdate;
import dev.sluice.scheduler.RequestUsage;
import dev.sluice.scheduler.SequenceDelta;
import dev.sluice.scheduler.StopConditions;
import io.helidon.http.Status;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine requests behind one API call (one per prompt, each with {@code n} choices) and the
 * one place their output is read from. {@link #consume} waits on a single condition that every
 * request's stream signals when it changes, so one handler thread follows any number of prompts
 * without polling them. Choices are numbered prompt-major: prompt {@code p}'s choice {@code i} is
 * {@code p * n + i}.
 */
final class Submission implements AutoCloseable {

    /** How long the output may be silent before the idle callback runs (SSE keep-alives). */
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(15);

    /** Receives each choice's new output as it arrives. */
    interface DeltaHandler {
        void accept(int choice, SequenceDelta delta);
    }

    private final List<Request> requests;
    private final int n;
    private final boolean logprobs;
    private final boolean tokenIdNames;
    private final Admission admission;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean dirty;
    private boolean released;
    private final long submittedAt = System.nanoTime();
    private long firstOutputAt = -1;
    private int[] recorded; // choice 0's tokens, when recordTokens() asked for them
    private int recordedLength;
    private FinishReason recordedFinish;

    private Submission(List<Request> requests, SamplingOptions options, Admission admission) {
        this.requests = requests;
        this.n = options.n();
        this.logprobs = options.logprobs();
        this.tokenIdNames = options.tokenIdNames();
        this.admission = admission;
        for (Request request : requests) {
            request.stream().onChange(this::signal);
        }
    }

    /**
     * Checks and submits one request per prompt, all or none: a prompt the engine could never
     * serve is a 400 ({@code context_length_exceeded}, about {@code promptParam}), a full server a
     * 429, a stopping one a 503. The caller must {@link #close()} what it gets. {@code priority}
     * orders it in the scheduler (lower first; shadow copies run behind client requests).
     */
    static Submission submit(EngineService service, Admission admission, RequestLimits limits, List<int[]> prompts,
                             SamplingOptions o, int maxTokens, Duration timeout, String promptParam, int priority) {
        return submit(service, admission, limits, prompts, o, maxTokens, timeout, promptParam, priority, -1);
    }

    /** As above; {@code promptLogprobs ≥ 0} also scores every prompt token with that many alternatives. */
    static Submission submit(EngineService service, Admission admission, RequestLimits limits, List<int[]> prompts,
                             SamplingOptions o, int maxTokens, Duration timeout, String promptParam, int priority,
                             int promptLogprobs) {
        limits.checkResponseSize(prompts.size(), o, maxTokens);
        // Built once for all prompts: the stop-string tables cost their length once per request.
        StopConditions stop = new StopConditions(maxTokens, o.ignoreEos(), o.stopTokenIds(), o.stop());
        List<Request> requests = new ArrayList<>(prompts.size());
        for (int[] prompt : prompts) {
            Request request = new Request(Responses.newId("req-"), prompt, o.sampling(), stop, o.n(), priority, 0);
            if (promptLogprobs >= 0) {
                limits.checkPromptLogprobsSize(prompt.length, promptLogprobs);
                request.withPromptOutputs(PromptOutputs.logprobs(promptLogprobs));
            }
            if (!timeout.isZero()) {
                request.withTimeout(timeout);
            }
            try {
                service.validate(request);
            } catch (RequestRejectedException e) {
                throw ApiException.invalid(promptParam, e.getMessage(), "context_length_exceeded");
            }
            requests.add(request);
        }
        if (!admission.tryAcquire(requests.size())) {
            throw new ApiException(Status.TOO_MANY_REQUESTS_429, "rate_limit_exceeded",
                    "The server is at capacity (" + admission.limit() + " queued requests); retry shortly.", null,
                    "rate_limit_exceeded");
        }
        List<Request> submitted = new ArrayList<>(requests.size());
        try {
            for (Request request : requests) {
                submitted.add(service.submit(request));
            }
        } catch (RequestRejectedException e) {
            submitted.forEach(Request::cancel);
            admission.release(requests.size());
            throw ApiException.invalid(promptParam, e.getMessage(), "context_length_exceeded");
        } catch (IllegalStateException e) {
            submitted.forEach(Request::cancel);
            admission.release(requests.size());
            throw ApiException.unavailable(e.getMessage());
        }
        return new Submission(List.copyOf(submitted), o, admission);
    }

    /** Prompt {@code prompt}'s scored tokens (position 1 first), once its request has run its prompt. */
    List<dev.sluice.engine.sampling.PromptLogprob> promptLogprobs(int prompt) {
        return requests.get(prompt).promptOutputs().logprobsResult();
    }

    /** Prompt {@code prompt}'s tokens. */
    int[] promptTokens(int prompt) {
        return requests.get(prompt).prompt();
    }

    /** Choices in all: prompts × n. */
    int choices() {
        return requests.size() * n;
    }

    /** The prompt choice {@code choice} continues. */
    int promptOf(int choice) {
        return choice / n;
    }

    boolean logprobs() {
        return logprobs;
    }

    /** vLLM's {@code return_tokens_as_token_ids}. */
    boolean tokenIdNames() {
        return tokenIdNames;
    }

    /**
     * Feeds every delta of every request to {@code handler} until all are done, collecting their
     * usage; runs {@code idle} when nothing arrived for 15 s. Returns the engine's error message
     * if a request failed, else null.
     */
    String consume(DeltaHandler handler, List<RequestUsage> usages, Runnable idle) throws InterruptedException {
        boolean[] done = new boolean[requests.size()];
        int remaining = done.length;
        long lastActivity = System.nanoTime();
        String error = null;
        while (remaining > 0) {
            boolean progressed = false;
            for (int p = 0; p < done.length; p++) {
                RequestUpdate update = done[p] ? null : requests.get(p).stream().poll();
                if (update == null) {
                    continue;
                }
                progressed = true;
                for (SequenceDelta delta : update.deltas()) {
                    if (firstOutputAt < 0 && delta.tokens().length > 0) {
                        firstOutputAt = System.nanoTime();
                    }
                    if (recorded != null && p == 0 && delta.index() == 0) {
                        record(delta.tokens());
                        recordedFinish = delta.finishReason();
                    }
                    handler.accept(p * n + delta.index(), delta);
                }
                if (update.done()) {
                    done[p] = true;
                    remaining--;
                    if (update.error() != null) {
                        error = update.error();
                    } else if (update.usage() != null) {
                        usages.add(update.usage());
                    }
                }
            }
            long now = System.nanoTime();
            if (progressed) {
                lastActivity = now;
            } else if (remaining > 0) {
                if (now - lastActivity >= IDLE_NANOS) {
                    idle.run();
                    lastActivity = now;
                }
                awaitChange(IDLE_NANOS - (now - lastActivity));
            }
        }
        return error;
    }

    /** From now on, {@link #consume} keeps choice 0's token ids (for comparing two versions' answers). */
    void recordTokens() {
        recorded = new int[64];
    }

    /**
     * Choice 0's tokens, if {@link #recordTokens} asked for them and it finished by itself (a stop
     * or its length, not cancelled, timed out or failed); else null.
     */
    int[] recordedTokens() {
        boolean whole = recordedFinish == FinishReason.STOP || recordedFinish == FinishReason.LENGTH;
        return recorded == null || !whole ? null : Arrays.copyOf(recorded, recordedLength);
    }

    private void record(int[] tokens) {
        if (recordedLength + tokens.length > recorded.length) {
            recorded = Arrays.copyOf(recorded, Math.max(recorded.length * 2, recordedLength + tokens.length));
        }
        System.arraycopy(tokens, 0, recorded, recordedLength, tokens.length);
        recordedLength += tokens.length;
    }

    /** Time from submission to the first generated token seen by {@link #consume}, or -1 before it. */
    long timeToFirstTokenNanos() {
        return firstOutputAt < 0 ? -1 : firstOutputAt - submittedAt;
    }

    private void signal() {
        lock.lock();
        try {
            dirty = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void awaitChange(long nanos) throws InterruptedException {
        lock.lock();
        try {
            // A change since the last look (dirty) means there is something to read: no wait.
            if (!dirty && nanos > 0) {
                changed.awaitNanos(nanos);
            }
            dirty = false;
        } finally {
            lock.unlock();
        }
    }

    /** Stops whatever still runs (a no-op for finished requests); the client went away or the handler failed. */
    void cancel() {
        requests.forEach(Request::cancel);
    }

    /** Ends the submission however its handler ends: cancels what still runs and frees its admission. */
    @Override
    public void close() {
        cancel();
        if (!released) {
            released = true;
            admission.release(requests.size());
        }
    }
}
