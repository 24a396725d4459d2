package dev.sluice.scheduler;

/**
 * Token accounting of a finished request, as the API reports it, plus its latencies.
 *
 * @param cachedPromptTokens prompt tokens served from the prefix cache
 * @param timeToFirstTokenNanos from arrival to the first output token (of any sequence)
 * @param computeNanos its share of the engine steps it was in (each step's time split by tokens)
 */
public record RequestUsage(int promptTokens, int completionTokens, int cachedPromptTokens,
                           long timeToFirstTokenNanos, long totalNanos, long computeNanos) {
}
