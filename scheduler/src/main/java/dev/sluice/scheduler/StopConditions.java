package dev.sluice.scheduler;

import java.util.List;

/**
 * When a sequence stops generating.
 *
 * @param maxTokens      most tokens to generate
 * @param ignoreEos      keep going past end-of-generation tokens (benchmarks on random models)
 * @param stopTokenIds   extra token ids that end generation (they are not part of the output text)
 * @param stopStrings    strings that end generation; the matched string is not part of the output
 */
public record StopConditions(int maxTokens, boolean ignoreEos, int[] stopTokenIds, List<String> stopStrings) {

    public StopConditions {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max tokens must be at least 1: " + maxTokens);
        }
        stopTokenIds = stopTokenIds == null ? new int[0] : stopTokenIds.clone();
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
    }

    public static StopConditions maxTokens(int maxTokens) {
        return new StopConditions(maxTokens, false, null, null);
    }

    public boolean isStopToken(int token) {
        for (int id : stopTokenIds) {
            if (id == token) {
                return true;
            }
        }
        return false;
    }
}
