package dev.sluice.api.openai;

import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.Bodies;
import dev.sluice.engine.text.Tokenizer;
import dev.sluice.scheduler.EngineService;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.ArrayList;
import java.util.List;

/** {@code POST /v1/completions}: one or more prompts (text or token ids), one submission. */
final class CompletionsEndpoint implements Handler {

    private final Endpoints endpoints;

    CompletionsEndpoint(Endpoints endpoints) {
        this.endpoints = endpoints;
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) throws InterruptedException {
        EngineService service = endpoints.served().ready();
        Tokenizer tokenizer = service.engine().tokenizer();
        CompletionRequest completion = CompletionRequest.parse(Bodies.json(req, endpoints.maxBodyBytes(), endpoints.guard()),
                tokenizer.vocabSize(), endpoints.limits());
        endpoints.served().requireModel(completion.model());
        List<int[]> prompts = new ArrayList<>();
        List<String> echoes = new ArrayList<>();
        for (CompletionRequest.Prompt p : completion.prompts()) {
            if (p.text() != null) {
                RequestLimits.requireFits(tokenizer.texts(), p.text(), service.engine().maxModelLength(), "prompt");
            }
            int[] tokens = p.tokens() != null ? p.tokens() : tokenizer.encode(p.text(), true, false);
            if (tokens.length == 0) {
                throw ApiException.invalid("prompt", "The prompt is empty.");
            }
            prompts.add(tokens);
            echoes.add(completion.echo() ? (p.text() != null ? p.text() : tokenizer.decode(tokens)) : "");
        }
        try (Submission submission = Submission.submit(service, endpoints.admission(), endpoints.limits(), prompts,
                completion.options(), completion.maxTokens(), endpoints.requestTimeout(), "prompt")) {
            CompletionFormat format = new CompletionFormat(submission, tokenizer, echoes);
            Responder.Envelope envelope = Responder.Envelope.create("cmpl-", endpoints.served().id());
            if (completion.stream()) {
                Responder.stream(req, res, endpoints.guard(), submission, format, envelope, completion.includeUsage());
            } else {
                Responder.respond(req, res, endpoints.guard(), submission, format, envelope);
            }
        }
    }
}
