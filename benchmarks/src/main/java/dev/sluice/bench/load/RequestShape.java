package dev.sluice.bench.load;

/**
 * What a workload asks for in one request: an optional shared system prefix
 * ({@link PromptSegment#NONE} when there is none), the user part of the prompt, and how many
 * tokens to generate.
 */
record RequestShape(PromptSegment systemPrefix, PromptSegment user, int outputTokens) {

    RequestShape {
        if (outputTokens < 1) {
            throw new IllegalArgumentException("outputTokens must be at least 1");
        }
    }

    int promptTokens() {
        return systemPrefix.tokens() + user.tokens();
    }
}
