package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.Bodies;
import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.http.ErrorHandlers;
import dev.sluice.api.openai.ChatRequest;
import dev.sluice.api.openai.Json;
import dev.sluice.api.openai.RequestLimits;
import dev.sluice.engine.Engine;
import dev.sluice.engine.chat.ChatMessage;
import dev.sluice.engine.chat.ChatTemplateException;
import dev.sluice.engine.text.Tokenizer;
import dev.sluice.scheduler.EngineLoop;
import dev.sluice.scheduler.EngineService;
import dev.sluice.scheduler.metrics.EngineMetrics;
import dev.sluice.scheduler.metrics.Histogram;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Health ({@code /health}, {@code /health/live}, {@code /health/ready}), {@code /metrics},
 * {@code /tokenize} and {@code /detokenize}.
 */
public final class OpsService implements HttpService {

    private final ServedModel served;
    private final long maxBodyBytes;
    private final Admission admission;
    private final ConnectionGuard guard;

    public OpsService(ServedModel served, long maxBodyBytes, Admission admission, ConnectionGuard guard) {
        this.served = served;
        this.maxBodyBytes = maxBodyBytes;
        this.admission = admission;
        this.guard = guard;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/health", this::ready)
                .get("/health/ready", this::ready)
                .get("/health/live", this::live)
                .get("/metrics", this::metrics)
                .post("/tokenize", this::tokenize)
                .post("/detokenize", this::detokenize)
                .any("/health", ErrorHandlers.methodNotAllowed("GET"))
                .any("/health/ready", ErrorHandlers.methodNotAllowed("GET"))
                .any("/health/live", ErrorHandlers.methodNotAllowed("GET"))
                .any("/metrics", ErrorHandlers.methodNotAllowed("GET"))
                .any("/tokenize", ErrorHandlers.methodNotAllowed("POST"))
                .any("/detokenize", ErrorHandlers.methodNotAllowed("POST"));
    }

    /**
     * Readiness ({@code /health} and {@code /health/ready}): 200 {@code {"status":"ready"}} when
     * a request sent now would be served; else 503 with why: {@code loading}, {@code draining},
     * {@code failed} (load failed, or the engine stopped), {@code stalled} (one engine step has
     * run past {@code --engine-stall-timeout}) or {@code saturated} (new requests would get 429).
     */
    private void ready(ServerRequest req, ServerResponse res) {
        ServedModel.State state = served.state();
        String status = state.name().toLowerCase(Locale.ROOT);
        String message = state == ServedModel.State.FAILED ? served.failure() : null;
        EngineService service = served.serviceOrNull();
        if (state == ServedModel.State.READY) {
            EngineLoop.Health health = service.health();
            if (!health.live()) {
                status = "stalled";
                message = health.reason();
            } else if (admission.isSaturated()) {
                status = "saturated";
                message = "the server holds its limit of " + admission.limit() + " requests (--max-queued-requests)";
            }
        }
        health(res, status.equals("ready"), status, message);
    }

    /**
     * Liveness ({@code /health/live}): 200 {@code {"status":"live"}} while the process can serve
     * or is still loading; 503 {@code dead} when the engine stopped on a failure or one step has
     * run past {@code --engine-stall-timeout}: restart the process.
     */
    private void live(ServerRequest req, ServerResponse res) {
        EngineService service = served.serviceOrNull();
        EngineLoop.Health health = service == null ? null : service.health();
        if (served.state() == ServedModel.State.FAILED) {
            health(res, false, "dead", served.failure());
        } else if (health != null && !health.live()) {
            health(res, false, "dead", health.reason());
        } else {
            health(res, true, "live", null);
        }
    }

    private static void health(ServerResponse res, boolean ok, String status, String message) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("status", status);
        if (message != null) {
            body.put("message", message);
        }
        res.status(ok ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503);
        send(res, body);
    }

    private void tokenize(ServerRequest req, ServerResponse res) {
        Engine engine = served.ready().engine();
        Tokenizer tokenizer = engine.tokenizer();
        Json json = Bodies.json(req, maxBodyBytes, guard);
        served.requireModel(json.string("model").orElse(null));
        boolean addSpecial = json.bool("add_special_tokens").orElse(true);
        int[] tokens;
        if (json.has("messages")) {
            List<ChatMessage> messages = ChatRequest.messages(json);
            String prompt;
            try {
                prompt = engine.chatTemplate().render(messages, json.bool("add_generation_prompt").orElse(true));
            } catch (ChatTemplateException e) {
                throw ApiException.invalid("messages", e.getMessage());
            }
            RequestLimits.requireFits(tokenizer.texts(), prompt, engine.maxModelLength(), "messages");
            tokens = tokenizer.encode(prompt, addSpecial, true);
        } else {
            String prompt = json.string("prompt").orElseThrow(
                    () -> ApiException.invalid("prompt", "Missing required parameter: 'prompt' (or 'messages')."));
            RequestLimits.requireFits(tokenizer.texts(), prompt, engine.maxModelLength(), "prompt");
            tokens = tokenizer.encode(prompt, addSpecial, false);
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("count", tokens.length);
        body.put("max_model_len", engine.maxModelLength());
        ArrayNode ids = body.putArray("tokens");
        for (int t : tokens) {
            ids.add(t);
        }
        if (json.bool("return_token_strs").orElse(false)) {
            ArrayNode strs = body.putArray("token_strs");
            for (int t : tokens) {
                strs.add(tokenizer.tokenText(t));
            }
        }
        send(res, body);
    }

    private void detokenize(ServerRequest req, ServerResponse res) {
        Tokenizer tokenizer = served.ready().engine().tokenizer();
        Json json = Bodies.json(req, maxBodyBytes, guard);
        served.requireModel(json.string("model").orElse(null));
        JsonNode node = json.get("tokens");
        if (node == null || !node.isArray()) {
            throw ApiException.invalid("tokens", "Missing required parameter: 'tokens' (an array of token ids).");
        }
        int[] tokens = new int[node.size()];
        for (int i = 0; i < tokens.length; i++) {
            JsonNode t = node.get(i);
            if (!t.isIntegralNumber() || t.longValue() < 0 || t.longValue() >= tokenizer.vocabSize()) {
                throw ApiException.invalid("tokens", "Token id " + t.asText() + " is out of vocabulary (0 to "
                        + (tokenizer.vocabSize() - 1) + ").");
            }
            tokens[i] = t.intValue();
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("prompt", tokenizer.decode(tokens, true));
        send(res, body);
    }

    /** Prometheus text exposition, named after vLLM's metrics with a {@code sluice:} prefix. */
    private void metrics(ServerRequest req, ServerResponse res) {
        StringBuilder out = new StringBuilder(4096);
        EngineService service = served.serviceOrNull();
        String label = "model_name=\"" + served.id().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        if (service != null) {
            EngineMetrics m = service.metrics();
            gauge(out, "num_requests_running", "Requests with sequences running on the engine.", label, m.requestsRunning());
            gauge(out, "num_requests_waiting", "Requests waiting to be scheduled.", label, m.requestsWaiting());
            gauge(out, "num_requests_swapped", "Requests whose KV blocks are swapped to host memory.", label, m.requestsSwapped());
            gauge(out, "kv_cache_usage_perc", "Fraction of KV cache blocks in use (0 to 1).", label, m.kvCacheUsage());
            gauge(out, "kv_cache_blocks_total", "KV cache blocks in the pool.", label, m.kvBlocksTotal());
            gauge(out, "kv_cache_blocks_used", "KV cache blocks referenced by sequences.", label, m.kvBlocksUsed());
            gauge(out, "kv_cache_blocks_free", "KV cache blocks free (including cached ones).", label, m.kvBlocksFree());
            gauge(out, "kv_cache_unfilled_slots", "Slots in KV blocks in use that hold no token yet (upper bound).",
                    label, m.kvSlotsUnfilled());
            gauge(out, "kv_cache_blocks_peak", "Most KV cache blocks in use after any step since start.", label,
                    m.kvBlocksPeak());
            gauge(out, "kv_cache_waste_at_peak_perc",
                    "Fraction of allocated KV slots holding no token at the step with the most blocks in use (0 to 1).",
                    label, m.kvWasteAtPeak());
            gauge(out, "kv_cache_blocks_cached_free", "Free KV cache blocks still holding reusable prefixes.", label,
                    m.kvBlocksCachedFree());
            counter(out, "prefix_cache_queries", "Prompt tokens looked up in the prefix cache.", label, m.prefixCacheQueryTokens());
            counter(out, "prefix_cache_hits", "Prompt tokens served from the prefix cache.", label, m.prefixCacheHitTokens());
            counter(out, "num_preemptions", "Sequences preempted for lack of KV blocks.", label, m.preemptions());
            counter(out, "prompt_tokens", "Prompt tokens received.", label, m.promptTokens.sum());
            counter(out, "generation_tokens", "Tokens generated.", label, m.generationTokens.sum());
            out.append("# HELP sluice:request_success_total Finished requests by finish reason.\n");
            out.append("# TYPE sluice:request_success_total counter\n");
            success(out, label, "stop", m.requestsFinishedStop.sum());
            success(out, label, "length", m.requestsFinishedLength.sum());
            success(out, label, "abort", m.requestsAborted.sum());
            counter(out, "request_failure", "Requests the engine failed.", label, m.requestsFailed.sum());
            counter(out, "request_timeouts", "Requests ended by --request-timeout (also counted as finished by length).",
                    label, m.requestsTimedOut.sum());
            counter(out, "stalled_clients_cancelled", "Requests cancelled because their client stopped reading.", label,
                    m.stalledClientsCancelled.sum());
            counter(out, "engine_step_failures", "Engine steps that failed (their requests got an error).", label,
                    m.stepFailures.sum());
            histogram(out, "time_to_first_token_seconds", "Time from arrival to the first generated token.", label, m.timeToFirstToken);
            histogram(out, "inter_token_latency_seconds", "Time between consecutive tokens of a sequence.", label, m.interTokenLatency);
            histogram(out, "e2e_request_latency_seconds", "Time from arrival to the last token.", label, m.endToEndLatency);
            histogram(out, "iteration_step_seconds", "Duration of one engine step (forward pass and sampling).", label, m.stepTime);
            histogram(out, "iteration_tokens_total", "Tokens computed per engine step.", label, m.stepTokens);
            histogram(out, "iteration_sequences", "Sequences per engine step.", label, m.stepSequences);
        }
        gauge(out, "model_ready", "1 when the model is loaded and serving.", label, served.state() == ServedModel.State.READY ? 1 : 0);
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        res.send(out.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void gauge(StringBuilder out, String name, String help, String label, double value) {
        out.append("# HELP sluice:").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE sluice:").append(name).append(" gauge\n");
        out.append("sluice:").append(name).append('{').append(label).append("} ").append(format(value)).append('\n');
    }

    private static void counter(StringBuilder out, String name, String help, String label, double value) {
        out.append("# HELP sluice:").append(name).append("_total ").append(help).append('\n');
        out.append("# TYPE sluice:").append(name).append("_total counter\n");
        out.append("sluice:").append(name).append("_total{").append(label).append("} ").append(format(value)).append('\n');
    }

    private static void success(StringBuilder out, String label, String reason, long value) {
        out.append("sluice:request_success_total{").append(label).append(",finished_reason=\"").append(reason)
                .append("\"} ").append(value).append('\n');
    }

    private static void histogram(StringBuilder out, String name, String help, String label, Histogram h) {
        out.append("# HELP sluice:").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE sluice:").append(name).append(" histogram\n");
        double[] bounds = h.bounds();
        long[] counts = h.cumulativeCounts();
        for (int i = 0; i < counts.length; i++) {
            String le = i < bounds.length ? format(bounds[i]) : "+Inf";
            out.append("sluice:").append(name).append("_bucket{").append(label).append(",le=\"").append(le).append("\"} ")
                    .append(counts[i]).append('\n');
        }
        out.append("sluice:").append(name).append("_sum{").append(label).append("} ").append(format(h.sum())).append('\n');
        // The +Inf bucket is the count by definition. Histogram.count() is a separate counter that a
        // step recorded between the two reads makes disagree with it, which Prometheus rejects.
        out.append("sluice:").append(name).append("_count{").append(label).append("} ").append(counts[counts.length - 1])
                .append('\n');
    }

    private static String format(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    private static void send(ServerResponse res, ObjectNode body) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        try {
            res.send(Json.MAPPER.writeValueAsBytes(body));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
