package dev.sluice.bench.load;

/**
 * What a run was asked to do, kept in its results file so a result says how it was made. The
 * API key is deliberately absent.
 *
 * @param numRequests {@code --num-requests}, 0 when the duration alone bounds a level
 * @param durationS   {@code --duration} in seconds, 0 when the request count alone bounds a level
 */
record RunConfig(
        String label,
        String baseUrl,
        String endpoint,
        String model,
        String workload,
        String promptFormat,
        int vocabMin,
        int vocabMax,
        long seed,
        int numRequests,
        double durationS,
        int warmupRequests,
        double temperature,
        double sloTtftMs,
        double sloTpotMs,
        String startedAt) {
}
