package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.Admission;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.api.models.Router;
import dev.sluice.scheduler.EngineService;
import dev.sluice.scheduler.RequestUsage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one Batch API input line's request through the same path as an HTTP request to its
 * endpoint: the {@link Router} picks the version from its {@code model}, the endpoint's kind
 * validates and tokenizes it, one {@link Submission} runs it and the non-streaming body is built
 * as {@link Responder} builds it. Two things differ: lines run at {@link #PRIORITY}, behind every
 * client request, and within their own {@link Admission}, so a batch never takes the place of an
 * interactive request in the queue; and {@code stream} is ignored (a batch line's answer is one
 * body). Batch lines do not count toward a route's guard, which judges interactive traffic.
 */
public final class BatchLines {

    /** Scheduler priority of batch lines: behind client requests (0), ahead of shadow copies. */
    public static final int PRIORITY = ShadowCopy.PRIORITY / 2;

    /**
     * What one line got: an HTTP status and body (an answer or an OpenAI error), its token usage,
     * and its share of the engine's time.
     */
    public record Outcome(int status, ObjectNode body, int promptTokens, int cachedTokens, int completionTokens,
                          long engineNanos) {
        public boolean ok() {
            return status == 200;
        }
    }

    private final Endpoints endpoints;
    private final Admission admission;
    /** Offline ({@link #direct}): the one engine every line runs on, whatever its {@code model}; else null. */
    private final EngineService only;
    private final String onlyName;
    private final int priority;

    BatchLines(Endpoints endpoints, Admission admission) {
        this(endpoints, admission, null, null, PRIORITY);
    }

    private BatchLines(Endpoints endpoints, Admission admission, EngineService only, String onlyName, int priority) {
        this.endpoints = endpoints;
        this.admission = admission;
        this.only = only;
        this.onlyName = onlyName;
        this.priority = priority;
    }

    /**
     * Lines run on one engine with no server around it (the offline runner): every line on
     * {@code service}, named {@code model} in its answers, at the default priority (nothing
     * interactive to make way for), within the given limits.
     */
    public static BatchLines direct(EngineService service, String model, long maxResponseTokens, Duration requestTimeout,
                                    int maxInFlight) {
        Endpoints endpoints = new Endpoints(null, Long.MAX_VALUE, new Admission(maxInFlight * 128), null, null,
                new RequestLimits(false, maxResponseTokens), requestTimeout);
        return new BatchLines(endpoints, endpoints.admission(), service, model, 0);
    }

    /** The endpoints lines may name (the batch's {@code endpoint} and each line's {@code url}). */
    public static boolean supports(String endpoint) {
        return "/v1/chat/completions".equals(endpoint) || "/v1/completions".equals(endpoint);
    }

    /**
     * Runs {@code body} as a request to {@code endpoint} and waits for its answer; interrupting the
     * calling thread cancels it (the exception propagates). A 429 or 503 says the line could not
     * run now (the engine is loading, draining or stopped) and should be retried, not recorded.
     */
    public Outcome run(String endpoint, ObjectNode body, String requestId) throws InterruptedException {
        GenerationEndpoint.Kind kind = switch (endpoint) {
            case "/v1/chat/completions" -> new ChatEndpoint();
            case "/v1/completions" -> new CompletionsEndpoint();
            default -> throw new IllegalArgumentException("unsupported endpoint " + endpoint);
        };
        ObjectNode copy = body.deepCopy();
        copy.remove("stream");
        copy.remove("stream_options");
        Json json = Json.of(copy);
        try {
            EngineService service;
            String model;
            if (only != null) {
                service = only;
                model = onlyName;
            } else {
                var user = json.get("user");
                Router.Resolution route = endpoints.router().resolve(json.string("model").orElse(null),
                        user != null && user.isTextual() ? user.textValue() : null, header -> null);
                ModelVersion version = route.primary();
                service = version.ready();
                model = route.model();
            }
            Prepared prepared = kind.prepare(json, service.engine(), endpoints);
            try (Submission submission = Submission.submit(service, admission, endpoints.limits(), prepared.prompts(),
                    prepared.options(), prepared.maxTokens(), endpoints.requestTimeout(), prepared.promptParam(), priority,
                    prepared.promptScoring().engineTop())) {
                List<RequestUsage> usages = new ArrayList<>();
                ObjectNode answer = Responder.body(submission, kind.format(submission, service.engine().tokenizer(), prepared),
                        new Responder.Envelope(Responses.newId(kind.idPrefix()), System.currentTimeMillis() / 1000,
                                model), usages);
                int prompt = 0;
                int cached = 0;
                int completion = 0;
                long engine = 0;
                for (RequestUsage u : usages) {
                    prompt += u.promptTokens();
                    cached += u.cachedPromptTokens();
                    completion += u.completionTokens();
                    engine += u.computeNanos();
                }
                return new Outcome(200, answer, prompt, cached, completion, engine);
            }
        } catch (ApiException e) {
            return new Outcome(e.status().code(), Responses.error(e.getMessage(), e.type(), e.param(), e.code()), 0, 0, 0, 0);
        }
    }
}
