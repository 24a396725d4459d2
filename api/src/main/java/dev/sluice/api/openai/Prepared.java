package dev.sluice.api.openai;

import dev.sluice.api.tools.ToolSession;

import java.util.List;

/**
 * A generation request made ready for one model version: its prompts as that version's tokens,
 * its options, its length, how to answer, and (completions) what to echo.
 *
 * @param promptParam the field errors about the prompt name ({@code messages} or {@code prompt})
 * @param tools       chat's tool use (its reply is parsed for calls when it {@link ToolSession#parses}), or null
 * @param promptScoring completions' prompt logprobs ({@code echo} with {@code logprobs}, {@code prompt_logprobs})
 */
record Prepared(List<int[]> prompts, SamplingOptions options, int maxTokens, boolean stream, boolean includeUsage,
                List<String> echoes, String promptParam, ToolSession tools, PromptScoring promptScoring) {

    /** A request that asks nothing about its prompt's tokens. */
    Prepared(List<int[]> prompts, SamplingOptions options, int maxTokens, boolean stream, boolean includeUsage,
             List<String> echoes, String promptParam, ToolSession tools) {
        this(prompts, options, maxTokens, stream, includeUsage, echoes, promptParam, tools, PromptScoring.NONE);
    }

    /** Greedy with one choice: two versions' answers to it can be compared token for token. */
    boolean comparable() {
        return options.n() == 1 && prompts.size() == 1
                && (options.sampling().temperature() < 1e-5f || options.sampling().topK() == 1);
    }
}
