package dev.sluice.api.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How requests for a model name are spread over its versions: integer weights (a version's share
 * is its weight over the sum), optionally sticky (a request's {@code user} field or a header picks
 * its version, the same one while the weights stay), optionally a shadow version that gets a copy
 * of some of the traffic, and optionally a guard that rolls the route back by itself when a canary
 * does worse than the stable version. Immutable: a change is a new route, swapped in at once.
 *
 * @param weights per version, its weight (≥ 0, at least one positive), in the order given
 */
public record Route(Map<String, Integer> weights, Sticky sticky, Shadow shadow, Guard guard) {

    /** What makes a request sticky to a version. */
    public record Sticky(Kind kind, String header) {
        public enum Kind { NONE, USER, HEADER }

        public static final Sticky NONE = new Sticky(Kind.NONE, null);

        /** {@code "user"} or {@code "header:X-Session-Id"}. */
        static Sticky parse(String text) {
            if (text == null || text.isBlank() || text.equals("none")) {
                return NONE;
            }
            if (text.equals("user")) {
                return new Sticky(Kind.USER, null);
            }
            if (text.toLowerCase(Locale.ROOT).startsWith("header:") && text.length() > 7) {
                return new Sticky(Kind.HEADER, text.substring(7).strip());
            }
            throw new IllegalArgumentException("sticky must be \"user\" or \"header:NAME\", got '" + text + "'");
        }

        String text() {
            return switch (kind) {
                case NONE -> null;
                case USER -> "user";
                case HEADER -> "header:" + header;
            };
        }
    }

    /** A version that gets a copy of {@code percent} % of the requests; its answers are measured, not sent. */
    public record Shadow(String version, double percent) {
        public Shadow {
            if (!(percent > 0 && percent <= 100)) {
                throw new IllegalArgumentException("shadow percent must be in (0, 100], got " + percent);
            }
        }
    }

    /**
     * When to roll back by itself: a canary version (any weighted version but the stable one) is
     * judged once it has served {@code minRequests} requests in its window, against the stable one.
     *
     * @param maxErrorRate    most server errors per request; 0 for no limit
     * @param maxTtftP99Ratio most canary / stable 99th-percentile time to first token; 0 for no limit
     */
    public record Guard(double maxErrorRate, double maxTtftP99Ratio, int minRequests) {
        public Guard {
            if (maxErrorRate < 0 || maxErrorRate > 1 || maxTtftP99Ratio < 0 || minRequests < 1) {
                throw new IllegalArgumentException("guard: max_error_rate in [0, 1], max_ttft_p99_ratio >= 0, "
                        + "min_requests >= 1");
            }
        }
    }

    public Route {
        if (weights.isEmpty() || weights.values().stream().allMatch(w -> w == 0)) {
            throw new IllegalArgumentException("a route needs at least one version with a positive weight");
        }
        for (Map.Entry<String, Integer> e : weights.entrySet()) {
            if (e.getValue() == null || e.getValue() < 0) {
                throw new IllegalArgumentException("weights must be integers >= 0, got " + e.getValue() + " for " + e.getKey());
            }
        }
        weights = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(weights));
        sticky = sticky == null ? Sticky.NONE : sticky;
    }

    /** All traffic to one version. */
    public static Route single(String version) {
        return new Route(Map.of(version, 100), Sticky.NONE, null, null);
    }

    /** Whether requests may go to {@code version}: it has weight, or is the shadow. */
    public boolean sends(String version) {
        return weights.getOrDefault(version, 0) > 0 || (shadow != null && shadow.version().equals(version));
    }

    /** The version with the most weight (the first on ties): the stable one a guard compares against. */
    public String heaviest() {
        String best = null;
        int most = -1;
        for (Map.Entry<String, Integer> e : weights.entrySet()) {
            if (e.getValue() > most) {
                best = e.getKey();
                most = e.getValue();
            }
        }
        return best;
    }

    /**
     * Reads {@code {"weights": {"1": 90, "2": 10}, "sticky": "user", "shadow": {"version": "3",
     * "percent": 5}, "guard": {"max_error_rate": 0.02, "max_ttft_p99_ratio": 1.5, "min_requests": 50}}}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static Route fromJson(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("a route is an object with 'weights'");
        }
        JsonNode w = node.get("weights");
        if (w == null || !w.isObject()) {
            throw new IllegalArgumentException("'weights' must be an object of version: weight");
        }
        Map<String, Integer> weights = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = w.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToInt()) {
                throw new IllegalArgumentException("weight of version " + e.getKey() + " must be an integer");
            }
            weights.put(e.getKey(), e.getValue().intValue());
        }
        JsonNode sticky = node.get("sticky");
        if (sticky != null && !sticky.isNull() && !sticky.isTextual()) {
            throw new IllegalArgumentException("'sticky' must be \"user\" or \"header:NAME\"");
        }
        Shadow shadow = null;
        JsonNode s = node.get("shadow");
        if (s != null && !s.isNull()) {
            if (!s.isObject() || !s.path("version").isValueNode() || !s.path("percent").isNumber()) {
                throw new IllegalArgumentException("'shadow' must be {\"version\": V, \"percent\": P}");
            }
            shadow = new Shadow(s.get("version").asText(), s.get("percent").doubleValue());
        }
        Guard guard = null;
        JsonNode g = node.get("guard");
        if (g != null && !g.isNull()) {
            if (!g.isObject()) {
                throw new IllegalArgumentException("'guard' must be an object");
            }
            guard = new Guard(g.path("max_error_rate").asDouble(0), g.path("max_ttft_p99_ratio").asDouble(0),
                    g.path("min_requests").asInt(50));
        }
        return new Route(weights, Sticky.parse(sticky == null || sticky.isNull() ? null : sticky.textValue()), shadow, guard);
    }

    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        ObjectNode w = o.putObject("weights");
        weights.forEach(w::put);
        if (sticky.kind() == Sticky.Kind.NONE) {
            o.putNull("sticky");
        } else {
            o.put("sticky", sticky.text());
        }
        if (shadow == null) {
            o.putNull("shadow");
        } else {
            o.putObject("shadow").put("version", shadow.version()).put("percent", shadow.percent());
        }
        if (guard == null) {
            o.putNull("guard");
        } else {
            o.putObject("guard").put("max_error_rate", guard.maxErrorRate()).put("max_ttft_p99_ratio", guard.maxTtftP99Ratio())
                    .put("min_requests", guard.minRequests());
        }
        return o;
    }
}
