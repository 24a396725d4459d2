package dev.sluice.api.openai;

import dev.sluice.api.http.Bodies;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.api.models.Router;
import dev.sluice.api.models.VersionOutcome;
import dev.sluice.engine.Engine;
import dev.sluice.engine.text.Tokenizer;
import dev.sluice.scheduler.EngineService;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * A generation endpoint (chat or completions, its {@link Kind}): the body's {@code model} picks a
 * version through the {@link Router}, the kind prepares the request for that version (its
 * tokenizer, its chat template), one {@link Submission} runs it, the {@link Responder} answers
 * (the response names the version: {@code model} and {@code X-Sluice-Model-Version}), and the
 * outcome counts for the version's route (its guard) and, when the route has a shadow, is
 * compared with the shadow's answer to a copy ({@link ShadowCopy}).
 */
final class GenerationEndpoint implements Handler {

    /** What differs between chat and completions. */
    interface Kind {
        String idPrefix();

        /** Validates the body and tokenizes its prompts for the version whose engine this is. */
        Prepared prepare(Json json, Engine engine, Endpoints endpoints);

        ChoiceFormat format(Submission submission, Tokenizer tokenizer, Prepared prepared);
    }

    private final Kind kind;
    private final Endpoints endpoints;

    GenerationEndpoint(Kind kind, Endpoints endpoints) {
        this.kind = kind;
        this.endpoints = endpoints;
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) throws InterruptedException {
        Json json = Bodies.json(req, endpoints.maxBodyBytes(), endpoints.guard());
        Router.Resolution route = endpoints.router().resolve(json.string("model").orElse(null), user(json),
                name -> req.headers().first(HeaderNames.create(name)).orElse(null));
        ModelVersion version = route.primary();
        EngineService service = version.ready();
        res.header("X-Sluice-Model-Version", version.version());
        VersionOutcome.record(endpoints.router(), version, ttft -> serve(req, res, json, route, service, ttft));
    }

    /** Prepares, submits and answers; returns whether the engine failed it. */
    private boolean serve(ServerRequest req, ServerResponse res, Json json, Router.Resolution route, EngineService service,
                          long[] ttft) throws InterruptedException {
        Tokenizer tokenizer = service.engine().tokenizer();
        Prepared prepared = kind.prepare(json, service.engine(), endpoints);
        try (Submission submission = Submission.submit(service, endpoints.admission(), endpoints.limits(),
                prepared.prompts(), prepared.options(), prepared.maxTokens(), endpoints.requestTimeout(),
                prepared.promptParam(), prepared.options().priority(), prepared.promptScoring().engineTop())) {
            ShadowCopy shadow = null;
            if (route.shadow() != null) {
                shadow = ShadowCopy.start(kind, endpoints, json, route.shadow(), prepared.comparable());
                if (prepared.comparable()) {
                    submission.recordTokens();
                }
            }
            long start = System.nanoTime();
            boolean failed = true;
            try {
                ChoiceFormat format = kind.format(submission, tokenizer, prepared);
                Responder.Envelope envelope = Responder.Envelope.create(kind.idPrefix(), route.model());
                String error = null;
                if (prepared.stream()) {
                    error = Responder.stream(req, res, endpoints.guard(), submission, format, envelope, prepared.includeUsage());
                } else {
                    Responder.respond(req, res, endpoints.guard(), submission, format, envelope);
                }
                failed = error != null;
                return failed;
            } finally {
                ttft[0] = submission.timeToFirstTokenNanos();
                if (shadow != null) {
                    shadow.primaryDone(failed ? null : submission.recordedTokens(), System.nanoTime() - start);
                }
            }
        }
    }

    /** The request's {@code user} field, for routes sticky by user (a wrong type is the kind's 400 to give). */
    private static String user(Json json) {
        var node = json.get("user");
        return node != null && node.isTextual() ? node.textValue() : null;
    }
}
