package dev.sluice.api.models;

import dev.sluice.api.http.ApiException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.TreeMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * Picks the version that serves a request: {@code name:version} pins one; {@code name} goes
 * through the name's {@link Route}, by weight among its ready versions, sticky when the route says
 * so (weighted rendezvous hashing: the same key gets the same version while the weights stay, and
 * when they change only the keys that must move do), plus a shadow copy now and then. Keeps every
 * name's route and the ones before it (for rollback), and rolls a guarded route back when its
 * canary does worse than its stable version.
 *
 * <p>A route change is one reference swap: new requests see the new route, requests in flight
 * finish on the version that started them.
 */
public final class Router {

    private static final System.Logger LOG = System.getLogger(Router.class.getName());

    private final ModelRegistry registry;
    private final Map<String, RouteState> routes = new ConcurrentHashMap<>();

    /** A name's route now, the routes before it, and its rollbacks. */
    private static final class RouteState {
        volatile Route current;
        final Deque<Route> previous = new ArrayDeque<>();
        final AtomicLong rollbacks = new AtomicLong();
        final AtomicLong guardRollbacks = new AtomicLong();

        RouteState(Route route) {
            this.current = route;
        }
    }

    /**
     * The versions a request goes to: its primary, and a shadow (or null) that gets a copy.
     *
     * @param model what responses call the model: {@code name:version} when the client pinned it or
     *              the name has several versions, else the name, as a single-model server always did
     */
    public record Resolution(ModelVersion primary, ModelVersion shadow, String model) {
    }

    public Router(ModelRegistry registry) {
        this.registry = registry;
    }

    /** Gives a name its first route, all traffic to {@code version}, unless it has one. */
    public void ensureRoute(String name, String version) {
        routes.computeIfAbsent(name, n -> new RouteState(Route.single(version)));
    }

    /** Forgets {@code name}'s route and its history (its last version is going away). */
    public void removeRoute(String name) {
        routes.remove(name);
    }

    /** Names with a route, in no particular order. */
    public List<String> names() {
        return new ArrayList<>(routes.keySet());
    }

    /** The route of {@code name}, or null. */
    public Route route(String name) {
        RouteState state = routes.get(name);
        return state == null ? null : state.current;
    }

    /** Every name's route now, by name. */
    public Map<String, Route> routes() {
        Map<String, Route> all = new TreeMap<>();
        routes.forEach((name, state) -> all.put(name, state.current));
        return all;
    }

    /** Rollbacks of {@code name}'s route in all, and those its guard made. */
    public long[] rollbacks(String name) {
        RouteState state = routes.get(name);
        return state == null ? new long[2] : new long[] {state.rollbacks.get(), state.guardRollbacks.get()};
    }

    /**
     * Replaces {@code name}'s route (the old one is kept for {@link #rollback}); every version it
     * names must exist. Their guard windows start afresh.
     */
    public Route setRoute(String name, Route route) {
        for (String version : route.weights().keySet()) {
            requireVersion(name, version);
        }
        if (route.shadow() != null) {
            requireVersion(name, route.shadow().version());
        }
        RouteState state = routes.computeIfAbsent(name, n -> new RouteState(route));
        synchronized (state) {
            if (state.current != route) {
                state.previous.push(state.current);
                state.current = route;
            }
        }
        for (String version : route.weights().keySet()) {
            registry.get(name, version).ifPresent(v -> v.stats().resetWindow());
        }
        LOG.log(System.Logger.Level.INFO, "route " + name + " is now " + route.toJson());
        return route;
    }

    /** Returns {@code name} to its previous route at once; 409 when it has none. */
    public Route rollback(String name, String why) {
        RouteState state = routes.get(name);
        if (state == null) {
            throw ApiException.notFound("There is no route for '" + name + "'.", "name", "route_not_found");
        }
        synchronized (state) {
            Route to = state.previous.peek();
            if (to == null) {
                throw new ApiException(io.helidon.http.Status.CONFLICT_409, "invalid_request_error",
                        "The route for '" + name + "' has no earlier route to roll back to.", null, "no_previous_route");
            }
            String missing = missingVersion(name, to);
            if (missing != null) {
                throw new ApiException(io.helidon.http.Status.CONFLICT_409, "invalid_request_error",
                        "The earlier route for '" + name + "' (" + to.toJson() + ") names version " + missing
                                + ", which has been unloaded; PUT a new route instead.", null, "no_previous_route");
            }
            state.previous.pop();
            state.current = to;
            state.rollbacks.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "route " + name + " rolled back to " + to.toJson() + ": " + why);
            return to;
        }
    }

    /** A version {@code route} sends traffic to that no longer exists, or null. */
    private String missingVersion(String name, Route route) {
        for (String version : route.weights().keySet()) {
            if (route.sends(version) && registry.get(name, version).isEmpty()) {
                return version;
            }
        }
        return null;
    }

    private void requireVersion(String name, String version) {
        if (registry.get(name, version).isEmpty()) {
            throw ApiException.invalid("weights", "Model version " + name + ":" + version + " does not exist; load it first.");
        }
    }

    /**
     * The versions for a request naming {@code model} ({@code name} or {@code name:version}; null
     * is the only name when there is one). {@code user} is the request's {@code user} field (or
     * null) and {@code header} reads its headers, for sticky routes.
     */
    public Resolution resolve(String model, String user, UnaryOperator<String> header) {
        String requested = model;
        if (requested == null) {
            if (routes.size() != 1) {
                throw ApiException.invalid("model", "This server serves several models: name one in 'model'.");
            }
            requested = routes.keySet().iterator().next();
        }
        int colon = requested.lastIndexOf(':');
        if (colon > 0) {
            String name = requested.substring(0, colon);
            ModelVersion pinned = registry.get(name, requested.substring(colon + 1))
                    .orElseThrow(() -> ModelsEndpoint.notFound(model));
            pinned.ready(); // 503 unless ready
            return new Resolution(pinned, null, pinned.id());
        }
        RouteState state = routes.get(requested);
        if (state == null) {
            throw ModelsEndpoint.notFound(requested);
        }
        Route route = state.current;
        ModelVersion primary = pick(requested, route, stickyKey(route, user, header));
        ModelVersion shadow = null;
        if (route.shadow() != null && ThreadLocalRandom.current().nextDouble() * 100 < route.shadow().percent()) {
            shadow = registry.get(requested, route.shadow().version()).filter(ModelVersion::isReady)
                    .filter(v -> v != primary).orElse(null);
        }
        return new Resolution(primary, shadow, registry.versions(requested).size() > 1 ? primary.id() : primary.name());
    }

    private static String stickyKey(Route route, String user, UnaryOperator<String> header) {
        return switch (route.sticky().kind()) {
            case NONE -> null;
            case USER -> user;
            case HEADER -> header.apply(route.sticky().header());
        };
    }

    /** A ready version by weight: weighted rendezvous hashing of the key, or a random draw without one. */
    private ModelVersion pick(String name, Route route, String key) {
        ModelVersion best = null;
        double bestScore = Double.POSITIVE_INFINITY;
        long total = 0;
        List<ModelVersion> ready = new ArrayList<>();
        List<Integer> readyWeights = new ArrayList<>();
        for (Map.Entry<String, Integer> e : route.weights().entrySet()) {
            if (e.getValue() <= 0) {
                continue;
            }
            ModelVersion v = registry.get(name, e.getKey()).filter(ModelVersion::isReady).orElse(null);
            if (v == null) {
                continue;
            }
            ready.add(v);
            readyWeights.add(e.getValue());
            total += e.getValue();
            if (key != null) {
                double score = -Math.log(unitHash(key, e.getKey())) / e.getValue();
                if (score < bestScore) {
                    bestScore = score;
                    best = v;
                }
            }
        }
        if (ready.isEmpty()) {
            // Nothing routable now: say why (still loading, failed, being unloaded).
            for (String version : route.weights().keySet()) {
                registry.get(name, version).ifPresent(ModelVersion::ready);
            }
            throw ApiException.unavailable("No version of the model " + name + " is ready.");
        }
        if (key != null) {
            return best;
        }
        long r = ThreadLocalRandom.current().nextLong(total);
        for (int i = 0; i < ready.size(); i++) {
            r -= readyWeights.get(i);
            if (r < 0) {
                return ready.get(i);
            }
        }
        return ready.getLast();
    }

    /** A hash of key and version in (0, 1]: the same for the same pair, independent across versions. */
    static double unitHash(String key, String version) {
        long h = 0xcbf29ce484222325L;
        for (byte b : (key + '\u0000' + version).getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        // SplitMix64's finalizer spreads FNV's low-entropy high bits.
        h ^= h >>> 30;
        h *= 0xbf58476d1ce4e5b9L;
        h ^= h >>> 27;
        h *= 0x94d049bb133111ebL;
        h ^= h >>> 31;
        return ((h >>> 11) + 1) * 0x1.0p-53;
    }

    /**
     * Records a finished request of {@code version} and, if its route has a guard and the version
     * is a canary in it, checks the guard: a breach rolls the route back.
     *
     * @param failure   a server error (not a client's bad request)
     * @param ttftNanos its time to first token, or -1
     */
    public void recordResult(ModelVersion version, boolean failure, long ttftNanos) {
        version.stats().record(failure, ttftNanos);
        RouteState state = routes.get(version.name());
        if (state == null) {
            return;
        }
        Route route = state.current;
        Route.Guard guard = route.guard();
        Integer weight = route.weights().get(version.version());
        String stable;
        synchronized (state) {
            Route before = state.previous.peek();
            stable = before != null ? before.heaviest() : route.heaviest();
        }
        if (guard == null || weight == null || weight == 0 || version.version().equals(stable)) {
            return;
        }
        VersionStats.Window canary = version.stats().window();
        if (canary.requests() < guard.minRequests()) {
            return;
        }
        String breach = null;
        if (guard.maxErrorRate() > 0 && canary.errorRate() > guard.maxErrorRate()) {
            breach = String.format("canary %s: error rate %.3f > %.3f over %d requests", version.id(), canary.errorRate(),
                    guard.maxErrorRate(), canary.requests());
        } else if (guard.maxTtftP99Ratio() > 0 && canary.ttftP99() > 0) {
            VersionStats.Window base = registry.get(version.name(), stable).map(v -> v.stats().window()).orElse(null);
            if (base != null && base.ttftP99() > 0 && base.requests() >= Math.min(guard.minRequests(), 10)) {
                double ratio = (double) canary.ttftP99() / base.ttftP99();
                if (ratio > guard.maxTtftP99Ratio()) {
                    breach = String.format("canary %s: time-to-first-token p99 %.1f ms is %.2f x stable %s's %.1f ms (limit %.2f)",
                            version.id(), canary.ttftP99() / 1e6, ratio, stable, base.ttftP99() / 1e6, guard.maxTtftP99Ratio());
                }
            }
        }
        if (breach != null) {
            guardRollback(version.name(), state, route, stable, breach);
        }
    }

    private void guardRollback(String name, RouteState state, Route judged, String stable, String why) {
        synchronized (state) {
            if (state.current != judged) {
                return; // another request's check got there first, or an operator changed it
            }
            Route to = state.previous.peek();
            if (to != null && missingVersion(name, to) == null) {
                state.previous.pop();
            } else {
                to = Route.single(stable);
            }
            state.current = to;
            state.rollbacks.incrementAndGet();
            state.guardRollbacks.incrementAndGet();
        }
        LOG.log(System.Logger.Level.WARNING, "route " + name + " rolled back by its guard: " + why);
    }
}
