package dev.sluice.scheduler;

/**
 * Scheduling limits.
 *
 * @param maxBatchedTokens  tokens one step may run (decode tokens plus prefill chunks)
 * @param maxSequences      sequences one step may run
 * @param maxModelLength    longest sequence (prompt + output) a request may reach
 * @param prefixCaching     reuse KV of identical prompt prefixes across requests
 * @param swapBlocks        host swap slots for preempted sequences (0 = always recompute)
 */
public record SchedulerConfig(int maxBatchedTokens, int maxSequences, int maxModelLength, boolean prefixCaching,
                              int swapBlocks) {

    public SchedulerConfig {
        if (maxBatchedTokens < 1 || maxSequences < 1 || maxModelLength < 1 || swapBlocks < 0) {
            throw new IllegalArgumentException("invalid scheduler limits: " + maxBatchedTokens + " tokens, "
                    + maxSequences + " sequences, model length " + maxModelLength + ", swap " + swapBlocks);
        }
    }

    /** CPU defaults: a 2048-token step budget, 256 sequences. */
    public static SchedulerConfig defaults(int maxModelLength) {
        return new SchedulerConfig(2048, 256, maxModelLength, true, 0);
    }

    public SchedulerConfig withSwapBlocks(int blocks) {
        return new SchedulerConfig(maxBatchedTokens, maxSequences, maxModelLength, prefixCaching, blocks);
    }

    public SchedulerConfig withMaxBatchedTokens(int tokens) {
        return new SchedulerConfig(tokens, maxSequences, maxModelLength, prefixCaching, swapBlocks);
    }

    public SchedulerConfig withMaxSequences(int sequences) {
        return new SchedulerConfig(maxBatchedTokens, sequences, maxModelLength, prefixCaching, swapBlocks);
    }

    public SchedulerConfig withPrefixCaching(boolean enabled) {
        return new SchedulerConfig(maxBatchedTokens, maxSequences, maxModelLength, enabled, swapBlocks);
    }
}
