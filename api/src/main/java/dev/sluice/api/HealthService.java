package dev.sluice.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ErrorHandlers;
import dev.sluice.api.models.ModelRegistry;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.api.models.Route;
import dev.sluice.api.models.Router;
import dev.sluice.api.openai.Json;
import dev.sluice.scheduler.EngineLoop;
import dev.sluice.scheduler.EngineService;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Health for load balancers and orchestrators: {@code /health/ready} (and {@code /health}) says
 * whether a request sent now would be served, {@code /health/live} whether the process should be
 * restarted. Over several model versions: ready when every name can route to a ready version;
 * dead when no version can serve any more (every one failed) or an engine step is stuck.
 */
final class HealthService implements HttpService {

    private final ModelRegistry registry;
    private final Router router;
    private final Admission admission;
    private final BooleanSupplier stopping;

    HealthService(ModelRegistry registry, Router router, Admission admission, BooleanSupplier stopping) {
        this.registry = registry;
        this.router = router;
        this.admission = admission;
        this.stopping = stopping;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/health", this::ready)
                .get("/health/ready", this::ready)
                .get("/health/live", this::live)
                .any("/health", ErrorHandlers.methodNotAllowed("GET"))
                .any("/health/ready", ErrorHandlers.methodNotAllowed("GET"))
                .any("/health/live", ErrorHandlers.methodNotAllowed("GET"));
    }

    /**
     * Readiness: 200 {@code {"status":"ready"}} when a request sent now would be served; else 503
     * with why: {@code draining} (shutting down), {@code loading} (a name has no ready version
     * yet), {@code failed} (a name's versions failed to load or their engines stopped),
     * {@code stalled} (one engine step has run past {@code --engine-stall-timeout}) or
     * {@code saturated} (new requests would get 429).
     */
    private void ready(ServerRequest req, ServerResponse res) {
        if (stopping.getAsBoolean()) {
            health(res, false, "draining", "the server is shutting down");
            return;
        }
        List<String> loading = new ArrayList<>();
        String failure = null;
        for (Map.Entry<String, Route> e : router.routes().entrySet()) {
            List<ModelVersion> weighted = new ArrayList<>();
            e.getValue().weights().forEach((version, weight) -> {
                if (weight > 0) {
                    registry.get(e.getKey(), version).ifPresent(weighted::add);
                }
            });
            if (weighted.stream().anyMatch(ModelVersion::isReady)) {
                continue;
            }
            if (weighted.stream().anyMatch(v -> v.state() == ModelVersion.State.LOADING)) {
                loading.add(e.getKey());
            } else if (failure == null) {
                failure = weighted.stream().map(ModelVersion::failure).filter(f -> f != null).findFirst()
                        .orElse("no version of " + e.getKey() + " can serve");
            }
        }
        if (failure != null) {
            health(res, false, "failed", failure);
        } else if (!loading.isEmpty()) {
            health(res, false, "loading", "still loading: " + String.join(", ", loading));
        } else if (stalled() != null) {
            health(res, false, "stalled", stalled());
        } else if (admission.isSaturated()) {
            health(res, false, "saturated", "the server holds its limit of " + admission.limit()
                    + " requests (--max-queued-requests)");
        } else {
            health(res, true, "ready", null);
        }
    }

    /**
     * Liveness: 200 {@code {"status":"live"}} while the process can serve or is still loading;
     * 503 {@code dead} when every version has failed (failed loads, or engines stopped on a
     * failure) or one engine step has run past {@code --engine-stall-timeout}: restart the process.
     */
    private void live(ServerRequest req, ServerResponse res) {
        List<ModelVersion> versions = registry.all();
        String stalled = stalled();
        if (!versions.isEmpty() && versions.stream().allMatch(v -> v.state() == ModelVersion.State.FAILED)) {
            health(res, false, "dead", versions.getFirst().failure());
        } else if (stalled != null) {
            health(res, false, "dead", stalled);
        } else {
            health(res, true, "live", null);
        }
    }

    /** Why a ready version's engine is stuck, or null. */
    private String stalled() {
        for (ModelVersion v : registry.all()) {
            EngineService service = v.serviceOrNull();
            if (v.isReady() && service != null) {
                EngineLoop.Health health = service.health();
                if (!health.live()) {
                    return registry.all().size() > 1 ? v.id() + ": " + health.reason() : health.reason();
                }
            }
        }
        return null;
    }

    private static void health(ServerResponse res, boolean ok, String status, String message) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("status", status);
        if (message != null) {
            body.put("message", message);
        }
        res.status(ok ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(body.toString());
    }
}
