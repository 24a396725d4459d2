package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.embeddings.EmbeddingRequest;
import dev.sluice.api.embeddings.EmbeddingVectors;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.Bodies;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.api.models.Router;
import dev.sluice.api.models.VersionOutcome;
import dev.sluice.engine.Engine;
import dev.sluice.engine.model.Pooling;
import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.engine.text.Tokenizer;
import dev.sluice.scheduler.EngineService;
import dev.sluice.scheduler.PromptOutputs;
import dev.sluice.scheduler.Request;
import dev.sluice.scheduler.RequestRejectedException;
import dev.sluice.scheduler.StopConditions;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code POST /v1/embeddings}: each input runs through the scheduler as a prefill-only sequence
 * (batched with generation, nothing sampled, its KV freed when its prompt has run) and comes back
 * pooled by the model's {@code pooling_type}, L2-normalised, in OpenAI's shape.
 *
 * <p>Every cost is checked before the engine sees a token: the number of inputs, each input's
 * length against the model's context (refused, never truncated), and the tokens in all. Inputs
 * are submitted in waves of at most {@link #WAVE} requests so one call never holds more than that
 * of the queue ({@code --max-queued-requests}) however many inputs it has.
 */
final class EmbeddingsEndpoint implements Handler {

    /** Requests one call has in the engine at once. */
    static final int WAVE = 64;

    private final Endpoints endpoints;
    private final EmbeddingLimits limits;

    EmbeddingsEndpoint(Endpoints endpoints, EmbeddingLimits limits) {
        this.endpoints = endpoints;
        this.limits = limits;
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) throws InterruptedException {
        Json json = Bodies.json(req, endpoints.maxBodyBytes(), endpoints.guard());
        var user = json.get("user");
        Router.Resolution route = endpoints.router().resolve(json.string("model").orElse(null),
                user != null && user.isTextual() ? user.textValue() : null,
                name -> req.headers().first(HeaderNames.create(name)).orElse(null));
        ModelVersion version = route.primary();
        EngineService service = version.ready();
        res.header("X-Sluice-Model-Version", version.version());
        // The outcome counts for the version's route (its guard), as a generation's does.
        VersionOutcome.record(endpoints.router(), version, ttft -> {
            serve(req, res, json, route, service);
            return false;
        });
    }

    private void serve(ServerRequest req, ServerResponse res, Json json, Router.Resolution route, EngineService service)
            throws InterruptedException {
        Engine engine = service.engine();
        Pooling pooling = engine.config().pooling();
        if (!pooling.embeds()) {
            throw ApiException.invalid("model", "Model " + route.model() + " declares no pooling for embeddings ("
                    + engine.config().architecture().ggufName() + ".pooling_type is " + pooling.name().toLowerCase(java.util.Locale.ROOT)
                    + "); serve an embedding model (pooling mean, cls or last).");
        }
        Tokenizer tokenizer = engine.tokenizer();
        EmbeddingRequest request = EmbeddingRequest.parse(json, tokenizer.vocabSize(), limits.maxInputs());
        int width = engine.config().embeddingLength();
        int dimensions = request.dimensions().orElse(width);
        if (dimensions > width) {
            throw ApiException.invalid("dimensions", "dimensions is " + dimensions + "; this model's embeddings have "
                    + width + " (ask for 1 to " + width + ").");
        }
        List<int[]> prompts = tokenize(request, tokenizer, engine.maxModelLength());

        float[][] pooled = new float[prompts.size()][];
        List<Request> running = new ArrayList<>();
        guardClient(req, running);
        for (int first = 0; first < prompts.size(); first += WAVE) {
            int end = Math.min(prompts.size(), first + WAVE);
            runWave(service, prompts, first, end, pooled, running);
        }
        long tokens = prompts.stream().mapToLong(p -> p.length).sum();
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(Responder.bytes(body(route.model(), pooled, dimensions, request.base64(), tokens)));
    }

    /** Tokenizes every input, refusing one longer than the context and a total over the limit. */
    private List<int[]> tokenize(EmbeddingRequest request, Tokenizer tokenizer, int maxModelLength) {
        List<int[]> prompts = new ArrayList<>(request.inputs().size());
        long total = 0;
        for (int i = 0; i < request.inputs().size(); i++) {
            EmbeddingRequest.Input input = request.inputs().get(i);
            if (input.text() != null) {
                RequestLimits.requireFits(tokenizer.texts(), input.text(), maxModelLength, "input");
            }
            int[] tokens = input.tokens() != null ? input.tokens() : tokenizer.encode(input.text(), true, false);
            if (tokens.length == 0) {
                throw ApiException.invalid("input", "input[" + i + "] has no tokens.");
            }
            if (tokens.length > maxModelLength) {
                throw ApiException.invalid("input", "This model's maximum context length is " + maxModelLength
                        + " tokens. However, input[" + i + "] has " + tokens.length
                        + " tokens. Please reduce the length of the input.", "context_length_exceeded");
            }
            total += tokens.length;
            if (total > limits.maxTotalTokens()) {
                throw ApiException.invalid("input", "The inputs have more than " + limits.maxTotalTokens()
                        + " tokens in all, this server's limit per request. Send fewer or shorter inputs.");
            }
            prompts.add(tokens);
        }
        return prompts;
    }

    /** A client that goes away cancels what still runs. */
    private void guardClient(ServerRequest req, List<Request> running) {
        endpoints.guard().onClientGone(req, () -> {
            synchronized (running) {
                running.forEach(Request::cancel);
            }
        });
    }

    private void runWave(EngineService service, List<int[]> prompts, int first, int end, float[][] pooled,
                         List<Request> running) throws InterruptedException {
        StopConditions stop = StopConditions.maxTokens(0);
        List<Request> wave = new ArrayList<>(end - first);
        for (int i = first; i < end; i++) {
            Request r = new Request(Responses.newId("emb-"), prompts.get(i), SamplingParams.GREEDY, stop, 1, 0, 0)
                    .withPromptOutputs(PromptOutputs.embedding());
            if (!endpoints.requestTimeout().isZero()) {
                r.withTimeout(endpoints.requestTimeout());
            }
            try {
                service.validate(r);
            } catch (RequestRejectedException e) {
                throw ApiException.invalid("input", e.getMessage(), "context_length_exceeded");
            }
            wave.add(r);
        }
        if (!endpoints.admission().tryAcquire(wave.size())) {
            throw new ApiException(Status.TOO_MANY_REQUESTS_429, "rate_limit_exceeded",
                    "The server is at capacity (" + endpoints.admission().limit() + " queued requests); retry shortly.",
                    null, "rate_limit_exceeded");
        }
        try {
            for (Request r : wave) {
                try {
                    service.submit(r);
                } catch (IllegalStateException e) {
                    throw ApiException.unavailable(e.getMessage());
                }
                synchronized (running) {
                    running.add(r);
                }
            }
            String error = EmbeddingWait.await(wave);
            if (error != null) {
                throw new ApiException(Status.INTERNAL_SERVER_ERROR_500, "server_error", error, null, null);
            }
            for (int i = 0; i < wave.size(); i++) {
                pooled[first + i] = wave.get(i).promptOutputs().embeddingResult();
                if (pooled[first + i] == null) {
                    throw new ApiException(Status.INTERNAL_SERVER_ERROR_500, "server_error",
                            "input[" + (first + i) + "] ended without an embedding (cancelled or timed out).", null, null);
                }
            }
        } finally {
            wave.forEach(Request::cancel); // a no-op for finished ones
            endpoints.admission().release(wave.size());
        }
    }

    private static ObjectNode body(String model, float[][] pooled, int dimensions, boolean base64, long tokens) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("object", "list");
        ArrayNode data = body.putArray("data");
        for (int i = 0; i < pooled.length; i++) {
            float[] vector = EmbeddingVectors.normalised(pooled[i], dimensions);
            ObjectNode item = data.addObject();
            item.put("object", "embedding");
            item.put("index", i);
            if (base64) {
                item.put("embedding", EmbeddingVectors.base64(vector));
            } else {
                ArrayNode values = item.putArray("embedding");
                for (float v : vector) {
                    values.add(v);
                }
            }
        }
        body.put("model", model);
        ObjectNode usage = body.putObject("usage");
        usage.put("prompt_tokens", tokens);
        usage.put("total_tokens", tokens);
        return body;
    }
}
