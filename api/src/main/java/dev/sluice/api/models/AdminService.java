package dev.sluice.api.models;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.Bodies;
import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.http.ErrorHandlers;
import dev.sluice.api.openai.Json;
import dev.sluice.engine.Engine;
import dev.sluice.scheduler.EngineService;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.nio.file.Files;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/**
 * The admin API ({@code --admin-api-key}): load and unload model versions while the server
 * serves, and change how each name's traffic is spread over its versions.
 *
 * <ul>
 *   <li>{@code GET /admin/models}: every version, its state and how it has served.</li>
 *   <li>{@code POST /admin/models}: load a version ({@link ModelSpec#fromJson}); waits until it
 *       serves (201) unless {@code ?wait=false} (202, then poll). A version that cannot load is
 *       refused (400, {@code insufficient_memory} with the numbers, or {@code model_load_failed})
 *       and nothing is left behind.</li>
 *   <li>{@code DELETE /admin/models/{name}/versions/{version}}: drain (in-flight requests finish,
 *       up to {@code ?drain=SECONDS}) and unload, freeing its memory; 409 while a route still
 *       sends it traffic (unless it is its name's only version: the name goes too).</li>
 *   <li>{@code GET /admin/routes}, {@code PUT /admin/routes/{name}} ({@link Route#fromJson}),
 *       {@code POST /admin/routes/{name}/rollback}: read, replace at once, and roll back a route.</li>
 * </ul>
 */
public final class AdminService implements HttpService {

    private final ModelRegistry registry;
    private final Router router;
    private final long maxBodyBytes;
    private final ConnectionGuard guard;
    private final Duration defaultDrain;

    public AdminService(ModelRegistry registry, Router router, long maxBodyBytes, ConnectionGuard guard,
                        Duration defaultDrain) {
        this.registry = registry;
        this.router = router;
        this.maxBodyBytes = maxBodyBytes;
        this.guard = guard;
        this.defaultDrain = defaultDrain;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/admin/models", this::listModels)
                .post("/admin/models", this::loadModel)
                .get("/admin/models/{name}/versions/{version}", this::getModel)
                .delete("/admin/models/{name}/versions/{version}", this::unloadModel)
                .get("/admin/routes", this::listRoutes)
                .put("/admin/routes/{name}", this::setRoute)
                .post("/admin/routes/{name}/rollback", this::rollback)
                .any("/admin/models", ErrorHandlers.methodNotAllowed("GET, POST"))
                .any("/admin/models/{name}/versions/{version}", ErrorHandlers.methodNotAllowed("GET, DELETE"))
                .any("/admin/routes", ErrorHandlers.methodNotAllowed("GET"))
                .any("/admin/routes/{name}", ErrorHandlers.methodNotAllowed("PUT"))
                .any("/admin/routes/{name}/rollback", ErrorHandlers.methodNotAllowed("POST"));
    }

    private void listModels(ServerRequest req, ServerResponse res) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("object", "list");
        ArrayNode data = body.putArray("data");
        registry.all().forEach(v -> data.add(describe(v)));
        send(res, Status.OK_200, body);
    }

    private void getModel(ServerRequest req, ServerResponse res) {
        send(res, Status.OK_200, describe(version(req)));
    }

    private void loadModel(ServerRequest req, ServerResponse res) throws InterruptedException {
        Json json = Bodies.json(req, maxBodyBytes, guard);
        ModelSpec spec;
        try {
            spec = ModelSpec.fromJson(json.node(), null);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(null, e.getMessage());
        }
        if (spec.path() != null && !Files.isRegularFile(spec.path())) {
            throw ApiException.invalid("path", "No model file at " + spec.path() + ".");
        }
        ModelVersion version;
        try {
            version = registry.add(spec);
        } catch (IllegalStateException e) {
            throw new ApiException(Status.CONFLICT_409, "invalid_request_error", "Model version " + spec.id()
                    + " already exists; unload it first or pick another version.", "version", "model_version_exists");
        }
        boolean wait = !req.query().first("wait").map(w -> w.equalsIgnoreCase("false")).orElse(false);
        var loaded = registry.load(version);
        if (!wait) {
            send(res, Status.ACCEPTED_202, describe(version));
            return;
        }
        try {
            loaded.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
        if (!version.isReady()) {
            Throwable cause = version.loadError();
            registry.unload(version, Duration.ZERO);
            if (cause instanceof Engine.InsufficientMemoryException) {
                throw ApiException.invalid("path", cause.getMessage(), "insufficient_memory");
            }
            throw ApiException.invalid("path", "Model version " + spec.id() + " could not be loaded: " + version.failure(),
                    "model_load_failed");
        }
        router.ensureRoute(spec.name(), spec.version());
        send(res, Status.CREATED_201, describe(version));
    }

    private void unloadModel(ServerRequest req, ServerResponse res) throws InterruptedException {
        ModelVersion version = version(req);
        Duration drain = req.query().first("drain").map(d -> {
            try {
                return Duration.ofSeconds(Math.max(0, Long.parseLong(d)));
            } catch (NumberFormatException e) {
                throw ApiException.invalid("drain", "drain must be a number of seconds, got '" + d + "'.");
            }
        }).orElse(defaultDrain);
        Route route = router.route(version.name());
        boolean onlyVersion = registry.versions(version.name()).size() == 1;
        if (route != null && !onlyVersion && route.sends(version.version())) {
            throw new ApiException(Status.CONFLICT_409, "invalid_request_error", "The route for '" + version.name()
                    + "' still sends traffic to version " + version.version() + " (" + route.toJson()
                    + "); PUT /admin/routes/" + version.name() + " without it first.", null, "version_in_use");
        }
        if (onlyVersion) {
            router.removeRoute(version.name());
        }
        registry.unload(version, drain);
        ObjectNode body = describe(version);
        body.put("deleted", true);
        send(res, Status.OK_200, body);
    }

    private void listRoutes(ServerRequest req, ServerResponse res) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        for (Map.Entry<String, Route> e : router.routes().entrySet()) {
            body.set(e.getKey(), describe(e.getKey(), e.getValue()));
        }
        send(res, Status.OK_200, body);
    }

    private void setRoute(ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        Json json = Bodies.json(req, maxBodyBytes, guard);
        Route route;
        try {
            route = Route.fromJson(json.node());
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(null, e.getMessage());
        }
        if (registry.versions(name).isEmpty()) {
            throw ModelsEndpoint.notFound(name);
        }
        send(res, Status.OK_200, describe(name, router.setRoute(name, route)));
    }

    private void rollback(ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        send(res, Status.OK_200, describe(name, router.rollback(name, "requested through the admin API")));
    }

    private ModelVersion version(ServerRequest req) {
        String name = req.path().pathParameters().get("name");
        String version = req.path().pathParameters().get("version");
        return registry.get(name, version).orElseThrow(() -> ModelsEndpoint.notFound(name + ":" + version));
    }

    private ObjectNode describe(String name, Route route) {
        ObjectNode o = route.toJson();
        long[] rollbacks = router.rollbacks(name);
        o.put("rollbacks", rollbacks[0]);
        o.put("guard_rollbacks", rollbacks[1]);
        return o;
    }

    private static ObjectNode describe(ModelVersion v) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", v.id());
        o.put("name", v.name());
        o.put("version", v.version());
        o.put("state", v.state().name().toLowerCase(Locale.ROOT));
        if (v.failure() != null) {
            o.put("failure", v.failure());
        }
        if (v.spec().path() != null) {
            o.put("path", v.spec().path().toString());
        } else {
            o.put("demo", v.spec().demo());
        }
        o.put("created", v.created());
        EngineService service = v.serviceOrNull();
        if (service != null) {
            Engine engine = service.engine();
            o.put("max_model_len", engine.maxModelLength());
            o.put("kv_cache_blocks", service.metrics().kvBlocksTotal());
            o.put("kv_cache_bytes", engine.kvCache().bytes());
            o.put("weights_bytes", engine.weightsBytes());
        }
        VersionStats s = v.stats();
        VersionStats.Window w = s.window();
        ObjectNode stats = o.putObject("stats");
        stats.put("requests", s.requests.sum());
        stats.put("failures", s.failures.sum());
        stats.put("window_requests", w.requests());
        stats.put("window_error_rate", w.errorRate());
        if (w.ttftP99() >= 0) {
            stats.put("window_ttft_p99_ms", w.ttftP99() / 1e6);
        }
        stats.put("shadow_requests", s.shadowRequests.sum());
        stats.put("shadow_compared", s.shadowCompared.sum());
        stats.put("shadow_agreements", s.shadowAgreements.sum());
        long completed = s.shadowCompleted.sum();
        if (completed > 0) {
            stats.put("shadow_latency_delta_ms_mean",
                    (s.shadowLatencyNanos.sum() - s.shadowPrimaryLatencyNanos.sum()) / 1e6 / completed);
        }
        return o;
    }

    private static void send(ServerResponse res, Status status, ObjectNode body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(body.toString());
    }
}
