package dev.sluice.api.openai;

import dev.sluice.api.http.ApiException;
import dev.sluice.api.tools.ToolSession;

/** Puts a tool session's grammar (forced calls) into a request's sampling options. */
final class ToolConstraint {

    private ToolConstraint() {
    }

    static SamplingOptions apply(SamplingOptions options, ToolSession tools) {
        var grammar = tools.grammar();
        if (grammar.isEmpty()) {
            // auto: a lazy grammar for calls, unless response_format or a grammar already holds the
            // reply, or ignore_eos forbids the end that a finished call needs.
            var lazy = tools.autoGrammar();
            if (lazy.isEmpty() || options.sampling().grammar().isPresent() || options.ignoreEos()) {
                return options;
            }
            var sampling = options.sampling().toBuilder().grammar(lazy.get().gbnf())
                    .grammarTriggers(lazy.get().triggers()).build();
            return new SamplingOptions(sampling, options.stop(), options.stopTokenIds(), options.ignoreEos(), options.n(),
                    options.priority(), options.logprobs(), options.topLogprobs(), options.tokenIdNames());
        }
        if (options.sampling().grammar().isPresent()) {
            // As llama-server: one grammar per request, and forced calls need theirs.
            throw ApiException.invalid("tool_choice", "tool_choice '" + (tools.legacy() ? "function_call" : "required")
                    + "' or a named function cannot be combined with response_format or a grammar; use tool_choice 'auto'.");
        }
        var sampling = options.sampling().toBuilder().grammar(grammar.get()).build();
        return new SamplingOptions(sampling, options.stop(), options.stopTokenIds(), options.ignoreEos(), options.n(),
                options.priority(), options.logprobs(), options.topLogprobs(), options.tokenIdNames());
    }
}
