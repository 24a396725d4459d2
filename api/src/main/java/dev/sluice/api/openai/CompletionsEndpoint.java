package dev.sluice.api.openai;

import dev.sluice.api.http.ApiException;
import dev.sluice.engine.Engine;
import dev.sluice.engine.text.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/** {@code POST /v1/completions}: one or more prompts (text or token ids). */
final class CompletionsEndpoint implements GenerationEndpoint.Kind {

    @Override
    public String idPrefix() {
        return "cmpl-";
    }

    @Override
    public Prepared prepare(Json json, Engine engine, Endpoints endpoints) {
        Tokenizer tokenizer = engine.tokenizer();
        CompletionRequest completion = CompletionRequest.parse(json, tokenizer.vocabSize(), endpoints.limits());
        List<int[]> prompts = new ArrayList<>();
        String suffix = json.string("suffix").orElse(null);
        List<String> echoes = new ArrayList<>();
        for (CompletionRequest.Prompt p : completion.prompts()) {
            if (p.text() != null) {
                RequestLimits.requireFits(tokenizer.texts(), p.text(), engine.maxModelLength(), "prompt");
            }
            int[] tokens = suffix != null
                    ? FillInTheMiddle.prompt(tokenizer, p.text(), p.tokens(), suffix, engine.maxModelLength())
                    : p.tokens() != null ? p.tokens() : tokenizer.encode(p.text(), true, false);
            if (tokens.length == 0) {
                throw ApiException.invalid("prompt", "The prompt is empty.");
            }
            prompts.add(tokens);
            echoes.add(completion.echo() ? (p.text() != null ? p.text() : tokenizer.decode(tokens)) : "");
        }
        return new Prepared(prompts, completion.options(), completion.maxTokens(), completion.stream(),
                completion.includeUsage(), echoes, "prompt", null, completion.promptScoring());
    }

    @Override
    public ChoiceFormat format(Submission submission, Tokenizer tokenizer, Prepared prepared) {
        return new CompletionFormat(submission, tokenizer, prepared.echoes(), prepared.promptScoring());
    }
}
