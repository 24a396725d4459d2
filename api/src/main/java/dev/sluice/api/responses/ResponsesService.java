package dev.sluice.api.responses;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.Bodies;
import dev.sluice.api.http.ErrorHandlers;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.api.models.Router;
import dev.sluice.api.models.VersionOutcome;
import dev.sluice.api.openai.ChatRuns;
import dev.sluice.api.openai.Json;
import dev.sluice.api.openai.Responses;
import dev.sluice.scheduler.EngineService;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * OpenAI's Responses API: {@code POST /v1/responses} runs a request through chat completions'
 * path ({@link ChatRuns}: the model's chat template, tools, output constraints, admission,
 * limits) and answers with a {@code response} object or its typed event stream;
 * {@code GET}/{@code DELETE /v1/responses/{id}}, {@code GET /v1/responses/{id}/input_items} and
 * {@code POST /v1/responses/{id}/cancel} work on stored ({@link ResponseStore}) and running
 * ({@link InFlight}) ones. Results count for their model version like chat's.
 */
public final class ResponsesService implements HttpService {

    /** How long {@code cancel} waits for a cancelled response to wind down (a step or two). */
    private static final long CANCEL_WAIT_SECONDS = 30;

    private final ChatRuns runs;
    private final ResponseStore store;
    private final InFlight inFlight = new InFlight();

    public ResponsesService(ChatRuns runs, int maxStored, long maxAgeSeconds, long maxStoredBytes) {
        this.runs = runs;
        this.store = new ResponseStore(maxStored, TimeUnit.SECONDS.toMillis(maxAgeSeconds), maxStoredBytes);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/v1/responses", this::create)
                .get("/v1/responses/{id}", (req, res) -> send(res, get(id(req))))
                .delete("/v1/responses/{id}", this::delete)
                .post("/v1/responses/{id}/cancel", this::cancel)
                .get("/v1/responses/{id}/input_items", this::inputItems)
                .any("/v1/responses", ErrorHandlers.methodNotAllowed("POST"))
                .any("/v1/responses/{id}", ErrorHandlers.methodNotAllowed("GET, DELETE"))
                .any("/v1/responses/{id}/cancel", ErrorHandlers.methodNotAllowed("POST"))
                .any("/v1/responses/{id}/input_items", ErrorHandlers.methodNotAllowed("GET"));
    }

    private void create(ServerRequest req, ServerResponse res) throws InterruptedException {
        Json json = Bodies.json(req, runs.maxBodyBytes(), runs.guard());
        ResponseRequest request = ResponseRequest.parse(json);
        List<ObjectNode> history = List.of();
        if (request.previousResponseId() != null) {
            history = store.get(request.previousResponseId()).orElseThrow(() -> ApiException.notFound(
                    "Previous response with id '" + Json.quote(request.previousResponseId()) + "' not found.",
                    "previous_response_id", "previous_response_not_found")).conversation();
        }
        JsonNode user = json.get("user");
        Router.Resolution route = runs.router().resolve(request.model(), user != null && user.isTextual() ? user.textValue() : null,
                name -> req.headers().first(HeaderNames.create(name)).orElse(null));
        ModelVersion version = route.primary();
        EngineService service = version.ready();
        res.header("X-Sluice-Model-Version", version.version());
        List<ObjectNode> context = history;
        VersionOutcome.record(runs.router(), version, ttft -> serve(req, res, request, context, route.model(), service, ttft));
    }

    private boolean serve(ServerRequest req, ServerResponse res, ResponseRequest request, List<ObjectNode> history,
                          String model, EngineService service, long[] ttft) throws InterruptedException {
        ChatRuns.Run run;
        try {
            run = runs.start(request.chatBody(history), service);
        } catch (ApiException e) {
            throw ParamNames.rename(e);
        }
        ResponseObject shape = new ResponseObject(Responses.newId("resp_"), model, request);
        ObjectNode[] result = {null};
        ResponseRun response = new ResponseRun(shape, run, done -> {
            result[0] = done;
            if (request.store()) {
                store.put(shape.id(), stored(done, history, request.input()));
            }
        });
        try (run) {
            inFlight.add(shape.id(), run, response::inProgress);
            if (request.stream()) {
                return response.stream(req, res, runs.guard());
            }
            response.respond(req, res, runs.guard());
            return false;
        } finally {
            ttft[0] = run.timeToFirstTokenNanos();
            inFlight.remove(shape.id(), result[0]);
        }
    }

    private static StoredResponse stored(ObjectNode response, List<ObjectNode> history, List<ObjectNode> input) {
        List<ObjectNode> output = new ArrayList<>();
        response.withArray("output").forEach(item -> output.add((ObjectNode) item));
        List<ObjectNode> conversation = new ArrayList<>(history.size() + input.size() + output.size());
        conversation.addAll(history);
        conversation.addAll(input);
        conversation.addAll(output);
        long bytes = response.toString().length();
        for (ObjectNode item : input) {
            bytes += item.toString().length();
        }
        return new StoredResponse(response, List.copyOf(conversation), input, System.currentTimeMillis(), bytes);
    }

    private ObjectNode get(String id) {
        var running = inFlight.get(id);
        if (running.isPresent()) {
            return running.get().snapshot().get();
        }
        return store.get(id).orElseThrow(() -> notFound(id)).response();
    }

    private void delete(ServerRequest req, ServerResponse res) {
        String id = id(req);
        if (!store.delete(id)) {
            throw notFound(id);
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("id", id);
        body.put("object", "response");
        body.put("deleted", true);
        send(res, body);
    }

    /** Stops a running response and answers with its final object (status {@code cancelled}, or how it ended first). */
    private void cancel(ServerRequest req, ServerResponse res) throws InterruptedException {
        String id = id(req);
        var running = inFlight.get(id);
        if (running.isEmpty()) {
            StoredResponse done = store.get(id).orElseThrow(() -> notFound(id));
            throw ApiException.invalid(null, "Cannot cancel response '" + Json.quote(id) + "': it is not in progress (its status is '"
                    + done.response().path("status").asText() + "').");
        }
        running.get().run().cancel();
        ObjectNode result;
        try {
            result = running.get().result().get(CANCEL_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            result = null;
        }
        if (result == null) {
            result = running.get().snapshot().get();
            result.put("status", "cancelled");
        }
        send(res, result);
    }

    private void inputItems(ServerRequest req, ServerResponse res) {
        String id = id(req);
        List<ObjectNode> items = store.get(id).orElseThrow(() -> notFound(id)).input();
        String order = req.query().first("order").orElse("desc");
        if (!order.equals("asc") && !order.equals("desc")) {
            throw ApiException.invalid("order", "order must be 'asc' or 'desc', got '" + Json.quote(order) + "'.");
        }
        int limit;
        try {
            limit = Integer.parseInt(req.query().first("limit").orElse("20"));
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > 100) {
            throw ApiException.invalid("limit", "limit must be an integer between 1 and 100.");
        }
        List<ObjectNode> ordered = new ArrayList<>(items);
        if (order.equals("desc")) {
            java.util.Collections.reverse(ordered);
        }
        String after = req.query().first("after").orElse(null);
        int from = 0;
        if (after != null) {
            while (from < ordered.size() && !after.equals(ordered.get(from).path("id").asText())) {
                from++;
            }
            from++;
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("object", "list");
        ArrayNode data = body.putArray("data");
        for (int i = from; i < ordered.size() && data.size() < limit; i++) {
            data.add(ordered.get(i));
        }
        if (data.isEmpty()) {
            body.putNull("first_id");
            body.putNull("last_id");
        } else {
            body.put("first_id", data.get(0).path("id").asText());
            body.put("last_id", data.get(data.size() - 1).path("id").asText());
        }
        body.put("has_more", from + data.size() < ordered.size());
        send(res, body);
    }

    private static String id(ServerRequest req) {
        return req.path().pathParameters().get("id");
    }

    private static ApiException notFound(String id) {
        return ApiException.notFound("Response with id '" + Json.quote(id) + "' not found.", null, null);
    }

    private static void send(ServerResponse res, ObjectNode body) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(ResponseRun.bytes(body));
    }
}
