package dev.sluice.api.web;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.models.ModelRegistry;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.api.models.Route;
import dev.sluice.api.models.Router;
import dev.sluice.api.models.VersionStats;
import dev.sluice.api.openai.Json;

import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What the dashboard polls ({@code GET /dashboard/data}): the Prometheus text {@code /metrics}
 * serves, verbatim, which the page parses itself, so every number on the dashboard is one a
 * scraper sees too (one source of truth, no second set of names to keep in step); and, because
 * the exposition holds only numbers, each route as the admin API shows it (weights, stickiness,
 * shadow, the guard's thresholds and rollbacks) with the guard's current view of each version
 * (its window of recent requests, error rate and TTFT p99, what a rollback is decided on).
 */
public final class DashboardData {

    private final Supplier<String> metricsText;
    private final ModelRegistry registry;
    private final Router router;

    public DashboardData(Supplier<String> metricsText, ModelRegistry registry, Router router) {
        this.metricsText = metricsText;
        this.registry = registry;
        this.router = router;
    }

    ObjectNode snapshot() {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("time", System.currentTimeMillis());
        body.put("metrics", metricsText.get());
        ObjectNode routes = body.putObject("routes");
        for (Map.Entry<String, Route> e : router.routes().entrySet()) {
            String name = e.getKey();
            ObjectNode r = e.getValue().toJson();
            long[] rollbacks = router.rollbacks(name);
            r.put("rollbacks", rollbacks[0]);
            r.put("guard_rollbacks", rollbacks[1]);
            r.put("stable", e.getValue().heaviest());
            ObjectNode versions = r.putObject("versions");
            for (ModelVersion v : registry.versions(name)) {
                ObjectNode o = versions.putObject(v.version());
                o.put("state", v.state().name().toLowerCase(Locale.ROOT));
                VersionStats.Window w = v.stats().window();
                o.put("window_requests", w.requests());
                o.put("window_error_rate", w.errorRate());
                if (w.ttftP99() >= 0) {
                    o.put("window_ttft_p99_ms", w.ttftP99() / 1e6);
                }
            }
            routes.set(name, r);
        }
        return body;
    }
}
