package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.Admission;
import dev.sluice.api.ServerConfig;
import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.http.ErrorHandlers;
import dev.sluice.api.models.ModelRegistry;
import dev.sluice.api.models.ModelsEndpoint;
import dev.sluice.api.models.Router;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.time.Duration;

/**
 * OpenAI's generation API over the model versions: {@code /v1/chat/completions} and
 * {@code /v1/completions} (a {@link GenerationEndpoint} each), {@code /v1/embeddings}
 * ({@link EmbeddingsEndpoint}) and {@code /v1/models}.
 *
 * <p>Everything that can fail about a request (body, fields, model name, prompt length, the size
 * of the answer it asks for, queue space) is checked before a byte is written, so errors keep
 * their status code. A client that disconnects cancels its requests, which frees their KV blocks
 * within a step: a streaming one when a write fails, a non-streaming one within about a second
 * ({@link ConnectionGuard#onClientGone}). Every request gets {@code --request-timeout} as its
 * deadline.
 */
public final class OpenAiService implements HttpService {

    /**
     * Shadow copies in flight at most, apart from clients' admission: a shadow never takes a
     * client's place in the queue.
     */
    private static final int SHADOW_QUEUE_DIVISOR = 8;

    private final Endpoints endpoints;
    private final ModelsEndpoint models;
    private final EmbeddingLimits embeddingLimits;

    public OpenAiService(ModelRegistry registry, Router router, ServerConfig config, Admission admission,
                         ConnectionGuard guard) {
        this.endpoints = new Endpoints(router, config.maxRequestBytes(), admission,
                new Admission(Math.max(4, config.maxQueuedRequests() / SHADOW_QUEUE_DIVISOR)), guard,
                new RequestLimits(config.enableRequestPriority(), config.maxResponseTokens()),
                Duration.ofSeconds(config.requestTimeoutSeconds()));
        this.models = new ModelsEndpoint(registry, router);
        this.embeddingLimits = new EmbeddingLimits(config.maxEmbeddingInputs(), config.maxEmbeddingTokens());
    }

    /**
     * Runs Batch API lines through these endpoints, at most {@code maxInFlight} at once. Their
     * admission is their own: a line is at most 128 engine requests (prompts × n), so it never
     * refuses a line the runner let start, and never counts against {@code --max-queued-requests}.
     */
    public BatchLines batchLines(int maxInFlight) {
        return new BatchLines(endpoints, new Admission(maxInFlight * 128));
    }

    /** Chat generation through these endpoints' admission and limits, for the Responses API. */
    public ChatRuns chatRuns() {
        return new ChatRuns(endpoints);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/v1/chat/completions", new GenerationEndpoint(new ChatEndpoint(), endpoints))
                .post("/v1/completions", new GenerationEndpoint(new CompletionsEndpoint(), endpoints))
                .post("/v1/embeddings", new EmbeddingsEndpoint(endpoints, embeddingLimits))
                .any("/v1/embeddings", ErrorHandlers.methodNotAllowed("POST"))
                .get("/v1/models", (req, res) -> send(res, models.list()))
                .get("/v1/models/{id}", (req, res) -> send(res, models.get(req.path().pathParameters().get("id"))))
                .any("/v1/chat/completions", ErrorHandlers.methodNotAllowed("POST"))
                .any("/v1/completions", ErrorHandlers.methodNotAllowed("POST"))
                .any("/v1/models", ErrorHandlers.methodNotAllowed("GET"))
                .any("/v1/models/{id}", ErrorHandlers.methodNotAllowed("GET"));
    }

    private static void send(ServerResponse res, ObjectNode body) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(Responder.bytes(body));
    }
}
