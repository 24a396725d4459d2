package dev.sluice.api.openai;

import java.util.List;

/**
 * A generation request made ready for one model version: its prompts as that version's tokens,
 * its options, its length, how to answer, and (completions) what to echo.
 *
 * @param promptParam the field errors about the prompt name ({@code messages} or {@code prompt})
 */
record Prepared(List<int[]> prompts, SamplingOptions options, int maxTokens, boolean stream, boolean includeUsage,
                List<String> echoes, String promptParam) {

    /** Greedy with one choice: two versions' answers to it can be compared token for token. */
    boolean comparable() {
        return options.n() == 1 && prompts.size() == 1
                && (options.sampling().temperature() < 1e-5f || options.sampling().topK() == 1);
    }
}
