package dev.sluice.api;

import dev.sluice.api.models.ModelRegistry;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.api.models.Route;
import dev.sluice.api.models.Router;
import dev.sluice.api.models.VersionStats;
import dev.sluice.api.http.ErrorHandlers;
import dev.sluice.scheduler.EngineService;
import dev.sluice.scheduler.metrics.EngineMetrics;
import dev.sluice.scheduler.metrics.Histogram;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * {@code GET /metrics}: Prometheus text exposition, named after vLLM's metrics with a
 * {@code sluice:} prefix. Engine metrics carry {@code model_name} and {@code version} labels, one
 * series per loaded version; route metrics say how each name's traffic is spread, how its
 * versions have done, what its shadow saw, and how often it was rolled back.
 */
final class MetricsService implements HttpService {

    private final ModelRegistry registry;
    private final Router router;
    private final ModelServerProtocolMetrics protocol = new ModelServerProtocolMetrics();
    private final double costPerHour;

    /** {@code costPerHour}: the machine's price (--cost-per-hour); 0 leaves the cost families out. */
    MetricsService(ModelRegistry registry, Router router, double costPerHour) {
        this.registry = registry;
        this.router = router;
        this.costPerHour = costPerHour;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/metrics", this::metrics)
                .any("/metrics", ErrorHandlers.methodNotAllowed("GET"));
    }

    private static double perMillion(double cost, double tokens) {
        return tokens > 0 ? cost * 1e6 / tokens : 0;
    }

    /** A loaded version and its label set. */
    private record Series(String labels, EngineMetrics metrics) {
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        res.send(text().getBytes(StandardCharsets.UTF_8));
    }

    /** The exposition {@code GET /metrics} serves, also the dashboard's data (one source of truth). */
    String text() {
        StringBuilder out = new StringBuilder(8192);
        write(out);
        // The Gateway API Inference Extension's gauges under the vLLM names its picker reads by default.
        protocol.write(out, registry.all().stream().map(ModelVersion::serviceOrNull).filter(s -> s != null).toList());
        return out.toString();
    }

    /** Every family with at least one series (an empty family confuses some scrapers). */
    private void write(StringBuilder out) {
        List<ModelVersion> versions = registry.all();
        List<Series> engines = versions.stream().filter(v -> v.serviceOrNull() != null)
                .map(v -> new Series(labels(v), v.serviceOrNull().metrics())).toList();
        gauge(out, engines, "num_requests_running", "Requests with sequences running on the engine.", EngineMetrics::requestsRunning);
        gauge(out, engines, "num_requests_waiting", "Requests waiting to be scheduled.", EngineMetrics::requestsWaiting);
        gauge(out, engines, "num_requests_swapped", "Requests whose KV blocks are swapped to host memory.", EngineMetrics::requestsSwapped);
        gauge(out, engines, "kv_cache_usage_perc", "Fraction of KV cache blocks in use (0 to 1).", EngineMetrics::kvCacheUsage);
        gauge(out, engines, "kv_cache_blocks_total", "KV cache blocks in the pool.", EngineMetrics::kvBlocksTotal);
        gauge(out, engines, "kv_cache_blocks_used", "KV cache blocks referenced by sequences.", EngineMetrics::kvBlocksUsed);
        gauge(out, engines, "kv_cache_blocks_free", "KV cache blocks free (including cached ones).", EngineMetrics::kvBlocksFree);
        gauge(out, engines, "kv_cache_unfilled_slots", "Slots in KV blocks in use that hold no token yet (upper bound).",
                EngineMetrics::kvSlotsUnfilled);
        gauge(out, engines, "kv_cache_blocks_peak", "Most KV cache blocks in use after any step since start.",
                EngineMetrics::kvBlocksPeak);
        gauge(out, engines, "kv_cache_waste_at_peak_perc",
                "Fraction of allocated KV slots holding no token at the step with the most blocks in use (0 to 1).",
                EngineMetrics::kvWasteAtPeak);
        gauge(out, engines, "kv_cache_blocks_cached_free", "Free KV cache blocks still holding reusable prefixes.",
                EngineMetrics::kvBlocksCachedFree);
        counter(out, engines, "prefix_cache_queries", "Prompt tokens looked up in the prefix cache.", EngineMetrics::prefixCacheQueryTokens);
        counter(out, engines, "prefix_cache_hits", "Prompt tokens served from the prefix cache.", EngineMetrics::prefixCacheHitTokens);
        counter(out, engines, "num_preemptions", "Sequences preempted for lack of KV blocks.", EngineMetrics::preemptions);
        counter(out, engines, "prompt_tokens", "Prompt tokens received.", m -> m.promptTokens.sum());
        counter(out, engines, "generation_tokens", "Tokens generated.", m -> m.generationTokens.sum());
        if (!engines.isEmpty()) {
            family(out, "request_success_total", "counter", "Finished requests by finish reason.");
        }
        for (Series s : engines) {
            EngineMetrics m = s.metrics();
            success(out, s.labels(), "stop", m.requestsFinishedStop.sum());
            success(out, s.labels(), "length", m.requestsFinishedLength.sum());
            success(out, s.labels(), "abort", m.requestsAborted.sum());
        }
        counter(out, engines, "request_failure", "Requests the engine failed.", m -> m.requestsFailed.sum());
        counter(out, engines, "request_timeouts", "Requests ended by --request-timeout (also counted as finished by length).",
                m -> m.requestsTimedOut.sum());
        counter(out, engines, "stalled_clients_cancelled", "Requests cancelled because their client stopped reading.",
                m -> m.stalledClientsCancelled.sum());
        counter(out, engines, "engine_step_failures", "Engine steps that failed (their requests got an error).",
                m -> m.stepFailures.sum());
        counter(out, engines, "engine_forward_seconds", "Engine time in forward passes (graph and compute).",
                m -> m.forwardNanos.sum() / 1e9);
        counter(out, engines, "engine_sampling_seconds", "Engine time sampling tokens from the logits.",
                m -> m.samplingNanos.sum() / 1e9);
        counter(out, engines, "engine_seconds", "Engine time (the sum of its steps), in seconds.", m -> m.stepTime.sum());
        counter(out, engines, "kv_rows_gathered", "KV rows per layer attention gathered into logical order.",
                m -> m.kvRowsGathered.sum());
        counter(out, engines, "kv_rows_attended", "KV rows per layer the steps' sequences attended to.",
                m -> m.kvRowsAttended.sum());
        if (costPerHour > 0) {
            counter(out, engines, "engine_cost", "Cost of the engine time at --cost-per-hour.",
                    m -> m.stepTime.sum() * costPerHour / 3600);
            gauge(out, engines, "cost_per_million_tokens",
                    "Engine cost per million tokens (prompt + generated) since start, at --cost-per-hour.",
                    m -> perMillion(m.stepTime.sum() * costPerHour / 3600, m.promptTokens.sum() + m.generationTokens.sum()));
            gauge(out, engines, "cost_per_million_generation_tokens",
                    "Engine cost per million generated tokens since start, at --cost-per-hour.",
                    m -> perMillion(m.stepTime.sum() * costPerHour / 3600, m.generationTokens.sum()));
        }
        histogram(out, engines, "time_to_first_token_seconds", "Time from arrival to the first generated token.", m -> m.timeToFirstToken);
        histogram(out, engines, "inter_token_latency_seconds", "Time between consecutive tokens of a sequence.", m -> m.interTokenLatency);
        histogram(out, engines, "e2e_request_latency_seconds", "Time from arrival to the last token.", m -> m.endToEndLatency);
        histogram(out, engines, "iteration_step_seconds", "Duration of one engine step (forward pass and sampling).", m -> m.stepTime);
        histogram(out, engines, "iteration_tokens_total", "Tokens computed per engine step.", m -> m.stepTokens);
        histogram(out, engines, "iteration_sequences", "Sequences per engine step.", m -> m.stepSequences);

        if (versions.isEmpty()) {
            return;
        }
        family(out, "model_ready", "gauge", "1 when the model version is loaded and serving.");
        versions.forEach(v -> sample(out, "model_ready", labels(v), v.isReady() ? 1 : 0));
        versionCounter(out, versions, "version_requests", "Client requests a version finished (pinned or routed).",
                s -> s.requests.sum());
        versionCounter(out, versions, "version_request_failures", "Of those, server errors (what a route's guard counts).",
                s -> s.failures.sum());
        versionCounter(out, versions, "shadow_requests", "Copies of requests a version got as its route's shadow.",
                s -> s.shadowRequests.sum());
        versionCounter(out, versions, "shadow_dropped", "Shadow copies dropped for lack of room.", s -> s.shadowDropped.sum());
        versionCounter(out, versions, "shadow_failures", "Shadow copies that failed where the primary was accepted.",
                s -> s.shadowFailures.sum());
        versionCounter(out, versions, "shadow_compared", "Shadow answers compared token for token with their primary's.",
                s -> s.shadowCompared.sum());
        versionCounter(out, versions, "shadow_agreements", "Compared shadow answers identical to their primary's.",
                s -> s.shadowAgreements.sum());
        versionCounter(out, versions, "shadow_completed", "Shadow copies that finished alongside their primary.",
                s -> s.shadowCompleted.sum());
        versionCounter(out, versions, "shadow_latency_seconds", "End-to-end latency of completed shadow copies, summed.",
                s -> s.shadowLatencyNanos.sum() / 1e9);
        versionCounter(out, versions, "shadow_primary_latency_seconds",
                "End-to-end latency of the primaries of completed shadow copies, summed (compare with shadow_latency).",
                s -> s.shadowPrimaryLatencyNanos.sum() / 1e9);

        Map<String, Route> routes = router.routes();
        if (routes.isEmpty()) {
            return;
        }
        family(out, "route_weight", "gauge", "A version's weight in its name's route (its share is weight / sum).");
        routes.forEach((name, route) -> route.weights().forEach((version, weight) ->
                sample(out, "route_weight", "model_name=\"" + escape(name) + "\",version=\"" + escape(version) + "\"", weight)));
        family(out, "route_rollbacks_total", "counter", "Rollbacks of a name's route, by an operator or its guard.");
        routes.keySet().forEach(name -> sample(out, "route_rollbacks_total", "model_name=\"" + escape(name) + "\"",
                router.rollbacks(name)[0]));
        family(out, "route_guard_rollbacks_total", "counter", "Rollbacks of a name's route made by its guard.");
        routes.keySet().forEach(name -> sample(out, "route_guard_rollbacks_total", "model_name=\"" + escape(name) + "\"",
                router.rollbacks(name)[1]));
    }

    private static String labels(ModelVersion v) {
        return "model_name=\"" + escape(v.name()) + "\",version=\"" + escape(v.version()) + "\"";
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static void family(StringBuilder out, String name, String type, String help) {
        out.append("# HELP sluice:").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE sluice:").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, String labels, double value) {
        out.append("sluice:").append(name).append('{').append(labels).append("} ").append(format(value)).append('\n');
    }

    private static void gauge(StringBuilder out, List<Series> engines, String name, String help,
                              ToDoubleFunction<EngineMetrics> value) {
        if (engines.isEmpty()) {
            return;
        }
        family(out, name, "gauge", help);
        engines.forEach(s -> sample(out, name, s.labels(), value.applyAsDouble(s.metrics())));
    }

    private static void counter(StringBuilder out, List<Series> engines, String name, String help,
                                ToDoubleFunction<EngineMetrics> value) {
        if (engines.isEmpty()) {
            return;
        }
        family(out, name + "_total", "counter", help);
        engines.forEach(s -> sample(out, name + "_total", s.labels(), value.applyAsDouble(s.metrics())));
    }

    private static void versionCounter(StringBuilder out, List<ModelVersion> versions, String name, String help,
                                       ToDoubleFunction<VersionStats> value) {
        if (versions.isEmpty()) {
            return;
        }
        family(out, name + "_total", "counter", help);
        versions.forEach(v -> sample(out, name + "_total", labels(v), value.applyAsDouble(v.stats())));
    }

    private static void success(StringBuilder out, String labels, String reason, long value) {
        sample(out, "request_success_total", labels + ",finished_reason=\"" + reason + "\"", value);
    }

    private static void histogram(StringBuilder out, List<Series> engines, String name, String help,
                                  Function<EngineMetrics, Histogram> of) {
        if (engines.isEmpty()) {
            return;
        }
        family(out, name, "histogram", help);
        for (Series s : engines) {
            Histogram h = of.apply(s.metrics());
            double[] bounds = h.bounds();
            long[] counts = h.cumulativeCounts();
            for (int i = 0; i < counts.length; i++) {
                String le = i < bounds.length ? format(bounds[i]) : "+Inf";
                sample(out, name + "_bucket", s.labels() + ",le=\"" + le + "\"", counts[i]);
            }
            sample(out, name + "_sum", s.labels(), h.sum());
            // The +Inf bucket is the count by definition. Histogram.count() is a separate counter that a
            // step recorded between the two reads makes disagree with it, which Prometheus rejects.
            sample(out, name + "_count", s.labels(), counts[counts.length - 1]);
        }
    }

    private static String format(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
