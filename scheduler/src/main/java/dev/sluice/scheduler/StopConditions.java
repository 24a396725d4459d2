package dev.sluice.scheduler;

import dev.sluice.engine.text.StopStrings;

import java.util.Arrays;
import java.util.List;

/**
 * When a sequence stops generating. Built once per request on the handler thread, where its
 * tables are paid for; every sequence of the request shares it.
 *
 * @see #StopConditions(int, boolean, int[], List)
 */
public final class StopConditions {

    private final int maxTokens;
    private final boolean ignoreEos;
    /** Sorted and distinct, so a sampled token is checked in O(log n). */
    private final int[] stopTokenIds;
    private final StopStrings stopStrings;

    /**
     * @param maxTokens      most tokens to generate; 0 runs the prompt only (its outputs: {@link PromptOutputs})
     * @param ignoreEos      keep going past end-of-generation tokens (benchmarks on random models)
     * @param stopTokenIds   extra token ids that end generation (they are not part of the output text)
     * @param stopStrings    strings that end generation; the matched string is not part of the output
     */
    public StopConditions(int maxTokens, boolean ignoreEos, int[] stopTokenIds, List<String> stopStrings) {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("max tokens must be at least 0: " + maxTokens);
        }
        this.maxTokens = maxTokens;
        this.ignoreEos = ignoreEos;
        this.stopTokenIds = stopTokenIds == null ? new int[0] : Arrays.stream(stopTokenIds).sorted().distinct().toArray();
        this.stopStrings = stopStrings == null || stopStrings.isEmpty() ? StopStrings.NONE : new StopStrings(stopStrings);
    }

    public static StopConditions maxTokens(int maxTokens) {
        return new StopConditions(maxTokens, false, null, null);
    }

    public int maxTokens() {
        return maxTokens;
    }

    public boolean ignoreEos() {
        return ignoreEos;
    }

    public int[] stopTokenIds() {
        return stopTokenIds.clone();
    }

    /** The compiled stop strings, shared by the request's sequences. */
    public StopStrings stopStrings() {
        return stopStrings;
    }

    public boolean isStopToken(int token) {
        return stopTokenIds.length > 0 && Arrays.binarySearch(stopTokenIds, token) >= 0;
    }
}
