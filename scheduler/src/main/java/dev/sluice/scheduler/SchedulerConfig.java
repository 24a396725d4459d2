package dev.sluice.scheduler;

/**
 * Scheduling limits.
 *
 * @param maxBatchedTokens  tokens one step may run (decode tokens plus prefill chunks)
 * @param maxSequences      sequences one step may run
 * @param maxModelLength    longest sequence (prompt + output) a request may reach
 * @param prefixCaching     reuse KV of identical prompt prefixes across requests
 * @param swapBlocks        host swap slots for preempted sequences (0 = always recompute)
 * @param requestShare      the share (0 to 1] of {@code maxSequences} one request's sequences (its
 *                          {@code n} choices) are guaranteed before others get theirs, and of
 *                          {@code maxBatchedTokens} one prompt chunk may take while other requests
 *                          wait; what others leave unused still goes to it
 * @param maxPromptChunk    the most tokens of one prompt a step computes, whatever else it holds:
 *                          long prompts are prefilled in chunks of this size, as llama.cpp computes
 *                          every batch in micro-batches ({@code n_ubatch}, 512). The server's 512
 *                          (--max-prompt-chunk): on 2 cores a 4000-token prompt alone reached its
 *                          first token in 0.97x and 0.91x llama-server's time in chunks of 512,
 *                          1.02x and 1.11x in chunks of 2048 (two runs, requests alternated)
 * @param backgroundSlack   how much longer (a fraction, by the fitted step cost) background work
 *                          (batch lines, shadow copies) may make a step with client work in it
 *                          ({@link BackgroundPolicy}; the server's --batch-slack)
 */
public record SchedulerConfig(int maxBatchedTokens, int maxSequences, int maxModelLength, boolean prefixCaching,
                              int swapBlocks, double requestShare, int maxPromptChunk, double backgroundSlack) {

    /** The default {@link #requestShare}: a request with many choices leaves three quarters to others. */
    public static final double DEFAULT_REQUEST_SHARE = 0.25;
    /** The default {@link #backgroundSlack}: chats beside a batch keep most of their speed on a CPU. */
    public static final double DEFAULT_BACKGROUND_SLACK = 0.3;

    public SchedulerConfig {
        if (maxBatchedTokens < 1 || maxSequences < 1 || maxModelLength < 1 || swapBlocks < 0
                || !(requestShare > 0 && requestShare <= 1) || maxPromptChunk < 1
                || !(backgroundSlack >= 0 && backgroundSlack < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("invalid scheduler limits: " + maxBatchedTokens + " tokens, "
                    + maxSequences + " sequences, model length " + maxModelLength + ", swap " + swapBlocks
                    + ", request share " + requestShare + ", prompt chunk " + maxPromptChunk
                    + ", background slack " + backgroundSlack);
        }
    }

    public SchedulerConfig(int maxBatchedTokens, int maxSequences, int maxModelLength, boolean prefixCaching,
                           int swapBlocks, double requestShare, int maxPromptChunk) {
        this(maxBatchedTokens, maxSequences, maxModelLength, prefixCaching, swapBlocks, requestShare, maxPromptChunk,
                DEFAULT_BACKGROUND_SLACK);
    }

    /** Limits where one prompt may take the whole step's budget (no chunk limit of its own). */
    public SchedulerConfig(int maxBatchedTokens, int maxSequences, int maxModelLength, boolean prefixCaching,
                           int swapBlocks, double requestShare) {
        this(maxBatchedTokens, maxSequences, maxModelLength, prefixCaching, swapBlocks, requestShare, Integer.MAX_VALUE);
    }

    public SchedulerConfig(int maxBatchedTokens, int maxSequences, int maxModelLength, boolean prefixCaching,
                           int swapBlocks) {
        this(maxBatchedTokens, maxSequences, maxModelLength, prefixCaching, swapBlocks, DEFAULT_REQUEST_SHARE);
    }

    /** CPU defaults: a 2048-token step budget, 256 sequences. */
    public static SchedulerConfig defaults(int maxModelLength) {
        return new SchedulerConfig(2048, 256, maxModelLength, true, 0);
    }

    /** Sequences of one request scheduled before any other request's (at least 1). */
    public int requestSequenceCap() {
        return Math.max(1, (int) Math.ceil(requestShare * maxSequences));
    }

    /** The largest prompt chunk one long prompt gets while others wait (at least 1). */
    public int requestTokenCap() {
        return Math.max(1, (int) Math.ceil(requestShare * maxBatchedTokens));
    }

    /**
     * The most tokens a prompt with {@code pending} tokens left computes in one step while other
     * requests wait: {@link #requestTokenCap()} when it is long (more than twice that), else all
     * of them. Cutting a prompt of a few hundred tokens in two delays its first token a step and
     * saves the others little; a 4000-token prompt taken whole would hold everything behind it.
     */
    public int promptChunkCap(int pending) {
        int cap = requestTokenCap();
        return Math.min(maxPromptChunk, pending > 2 * cap ? cap : pending);
    }

    public SchedulerConfig withSwapBlocks(int blocks) {
        return new SchedulerConfig(maxBatchedTokens, maxSequences, maxModelLength, prefixCaching, blocks, requestShare, maxPromptChunk,
                backgroundSlack);
    }

    public SchedulerConfig withMaxBatchedTokens(int tokens) {
        return new SchedulerConfig(tokens, maxSequences, maxModelLength, prefixCaching, swapBlocks, requestShare, maxPromptChunk,
                backgroundSlack);
    }

    public SchedulerConfig withMaxSequences(int sequences) {
        return new SchedulerConfig(maxBatchedTokens, sequences, maxModelLength, prefixCaching, swapBlocks, requestShare, maxPromptChunk,
                backgroundSlack);
    }

    public SchedulerConfig withPrefixCaching(boolean enabled) {
        return new SchedulerConfig(maxBatchedTokens, maxSequences, maxModelLength, enabled, swapBlocks, requestShare, maxPromptChunk,
                backgroundSlack);
    }

    public SchedulerConfig withRequestShare(double share) {
        return new SchedulerConfig(maxBatchedTokens, maxSequences, maxModelLength, prefixCaching, swapBlocks, share, maxPromptChunk,
                backgroundSlack);
    }

    public SchedulerConfig withMaxPromptChunk(int tokens) {
        return new SchedulerConfig(maxBatchedTokens, maxSequences, maxModelLength, prefixCaching, swapBlocks, requestShare, tokens,
                backgroundSlack);
    }

    public SchedulerConfig withBackgroundSlack(double slack) {
        return new SchedulerConfig(maxBatchedTokens, maxSequences, maxModelLength, prefixCaching, swapBlocks, requestShare,
                maxPromptChunk, slack);
    }
}
