package dev.sluice.scheduler;

import dev.sluice.scheduler.kv.BlockTable;

import java.util.Arrays;

/**
 * One generated continuation of a request: its tokens (prompt, then output), how many of them
 * have KV in the pool ({@link #computed()}), its block table, and its state. The scheduler and
 * the engine loop change it, on the engine thread only.
 */
public final class Sequence {

    private final Request request;
    private final int index;
    private int[] tokens;
    private int length;
    private int computed;
    private final BlockTable blocks = new BlockTable();
    SequenceStatus status = SequenceStatus.WAITING;
    FinishReason finishReason;
    int[] swapSlots;
    /** The last scheduler step that ran this sequence. */
    long scheduledStep = -1;
    /** Steps this sequence waited for another's prefill of a prefix they share ({@link SharedPrefixWait}). */
    int prefixHoldSteps;
    /** Prompt tokens served from the prefix cache at first admission. */
    int cachedPromptTokens = -1;
    long firstTokenNanos;
    long lastTokenNanos;
    /** Its output text so far, held by the {@link OutputProcessor}; null until its first token. */
    OutputProcessor.Text text;

    Sequence(Request request, int index) {
        this.request = request;
        this.index = index;
        int expected = request.promptLength() + Math.min(request.stop().maxTokens(), 256);
        this.tokens = Arrays.copyOf(request.prompt(), Math.max(16, expected));
        this.length = request.promptLength();
    }

    /** A sibling sharing this sequence's tokens and KV (for {@code n > 1}). */
    Sequence fork(int siblingIndex) {
        Sequence sibling = new Sequence(request, siblingIndex);
        sibling.tokens = tokens.clone();
        sibling.length = length;
        sibling.computed = computed;
        sibling.status = status;
        sibling.cachedPromptTokens = cachedPromptTokens;
        return sibling;
    }

    public Request request() {
        return request;
    }

    /**
     * Its id, unique in this process: how the engine knows it (its sampler state). A request's
     * sequences have consecutive ids, so the choices forked at its fork point are known in advance.
     */
    public long id() {
        return request.firstSequenceId() + index;
    }

    /** Its index among the request's sequences: the API's {@code choices[].index}. */
    public int index() {
        return index;
    }

    public SequenceStatus status() {
        return status;
    }

    public FinishReason finishReason() {
        return finishReason;
    }

    /** Prompt plus output tokens. */
    public int length() {
        return length;
    }

    /** Tokens whose K/V is in the pool. */
    public int computed() {
        return computed;
    }

    /** Tokens still to run through the model (the prompt, a recompute, or the last sampled token). */
    public int pending() {
        return length - computed;
    }

    public int outputLength() {
        return length - request.promptLength();
    }

    public int token(int i) {
        return tokens[i];
    }

    public int lastToken() {
        return tokens[length - 1];
    }

    /** The token array; entries past {@link #length()} are unused. Read-only for callers. */
    public int[] tokenArray() {
        return tokens;
    }

    public BlockTable blocks() {
        return blocks;
    }

    /** Prompt tokens that came from the prefix cache (for usage reporting). */
    public int cachedPromptTokens() {
        return Math.max(0, cachedPromptTokens);
    }

    public boolean isFinished() {
        return status == SequenceStatus.FINISHED;
    }

    void append(int token) {
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length * 2);
        }
        tokens[length++] = token;
    }

    void advance(int newlyComputed) {
        computed += newlyComputed;
        if (computed > length) {
            throw new IllegalStateException("computed past the end of " + this);
        }
    }

    void resetComputed(int value) {
        computed = value;
    }

    @Override
    public String toString() {
        return "Sequence[" + request.id() + "#" + index + " " + status + ", " + computed + "/" + length + " computed]";
    }
}
