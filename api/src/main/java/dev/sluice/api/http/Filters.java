package dev.sluice.api.http;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

/** Cross-cutting HTTP concerns: request ids and access logging, keep-alive, API keys, CORS. */
public final class Filters {

    private static final System.Logger ACCESS = System.getLogger("sluice.access");
    private static final HeaderName REQUEST_ID = HeaderNames.create("X-Request-Id");
    private static final HeaderName KEEP_ALIVE = HeaderNames.create("Keep-Alive");

    private Filters() {
    }

    /** Tags every request with an id ({@code X-Request-Id}, the client's if sent) and logs it when done. */
    public static Filter accessLog() {
        return (FilterChain chain, RoutingRequest req, RoutingResponse res) -> {
            long start = System.nanoTime();
            String id = req.headers().first(REQUEST_ID).filter(s -> s.length() <= 128)
                    .orElseGet(() -> UUID.randomUUID().toString());
            res.header(REQUEST_ID, id);
            String peer = peer(req); // now: once the connection is closed, the socket no longer knows
            try {
                chain.proceed();
            } finally {
                if (ACCESS.isLoggable(System.Logger.Level.INFO)) {
                    ACCESS.log(System.Logger.Level.INFO, String.format("%s %s %s %d %.1fms %s",
                            peer, req.prologue().method().text(), req.path().path(),
                            res.status().code(), (System.nanoTime() - start) / 1e6, id));
                }
            }
        };
    }

    /**
     * Tells HTTP/1.1 clients how long the server keeps an idle connection open
     * ({@code Keep-Alive: timeout=N}, as Apache httpd and Node send it). A client pool that keeps
     * connections longer than the server sends its next request on one the server has closed,
     * and a POST that fails that way is not retried: clients that read the header (Apache
     * HttpClient, Node's undici, {@code HttpURLConnection}) drop the connection in time instead.
     * Not sent when the client asked to close the connection.
     */
    public static Filter keepAliveTimeout(int seconds) {
        String value = "timeout=" + seconds;
        return (FilterChain chain, RoutingRequest req, RoutingResponse res) -> {
            boolean closing = req.headers().first(HeaderNames.CONNECTION)
                    .map(v -> v.toLowerCase(java.util.Locale.ROOT).contains("close")).orElse(false);
            if (!closing) {
                res.header(KEEP_ALIVE, value);
            }
            chain.proceed();
        };
    }

    private static String peer(RoutingRequest req) {
        try {
            return req.remotePeer().host();
        } catch (RuntimeException e) {
            return "-";
        }
    }

    /**
     * Requires {@code Authorization: Bearer <key>} on every path but {@code /health},
     * {@code /health/live} and {@code /health/ready} (load balancers and orchestrators probe them),
     * CORS preflights, the admin API (which has keys of its own, {@link #adminKeys}) and the browser
     * pages ({@link #isBrowserPage}). Keys are
     * compared in constant time.
     */
    public static Filter apiKeys(List<String> keys) {
        return bearer(keys, path -> !(path.equals("/health") || path.startsWith("/health/") || isAdmin(path)
                || isBrowserPage(path)));
    }

    /**
     * The browser pages and their files ({@code dev.sluice.api.web.WebService}) load without a key:
     * they hold no data, and the page asks for the key when an API call gets 401. The dashboard's
     * data ({@code /dashboard/data}) checks its keys itself (the admin key when one is set).
     */
    private static boolean isBrowserPage(String path) {
        return path.equals("/") || path.equals("/dashboard") || path.equals("/dashboard/data") || path.startsWith("/ui/");
    }

    /**
     * True when {@code authorization} (the header's value, or null) is {@code Bearer} one of
     * {@code keys}, compared in constant time; for handlers that choose their keys per request.
     */
    public static boolean bearerMatches(String authorization, List<String> keys) {
        String header = authorization == null ? "" : authorization;
        byte[] presented = header.regionMatches(true, 0, "Bearer ", 0, 7)
                ? header.substring(7).strip().getBytes(StandardCharsets.UTF_8) : new byte[0];
        boolean ok = false;
        for (String key : keys) {
            ok |= MessageDigest.isEqual(key.getBytes(StandardCharsets.UTF_8), presented);
        }
        return ok;
    }

    /** Requires one of the admin keys on the admin API ({@code /admin/…}); other paths pass. */
    public static Filter adminKeys(List<String> keys) {
        return bearer(keys, Filters::isAdmin);
    }

    private static boolean isAdmin(String path) {
        return path.equals("/admin") || path.startsWith("/admin/");
    }

    private static Filter bearer(List<String> keys, Predicate<String> guarded) {
        return (chain, req, res) -> {
            if (!guarded.test(req.path().path()) || req.prologue().method() == Method.OPTIONS) {
                chain.proceed();
                return;
            }
            String header = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
            if (!bearerMatches(header, keys)) {
                ErrorHandlers.write(res, Status.UNAUTHORIZED_401, "invalid_request_error", header.isEmpty()
                        ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                        : "Incorrect API key provided.", null, "invalid_api_key");
                return;
            }
            chain.proceed();
        };
    }

    /** CORS for browser frontends: {@code *} or a list of exact origins. */
    public static Filter cors(List<String> allowedOrigins) {
        boolean any = allowedOrigins.contains("*");
        return (chain, req, res) -> {
            String origin = req.headers().first(HeaderNames.ORIGIN).orElse(null);
            boolean allowed = origin != null && (any || allowedOrigins.contains(origin));
            if (allowed) {
                res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, any ? "*" : origin);
                res.header(HeaderNames.VARY, "Origin");
                res.header(HeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, "X-Request-Id");
            }
            if (req.prologue().method() == Method.OPTIONS
                    && req.headers().contains(HeaderNames.ACCESS_CONTROL_REQUEST_METHOD)) {
                if (allowed) {
                    res.header(HeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS");
                    res.header(HeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, req.headers()
                            .first(HeaderNames.ACCESS_CONTROL_REQUEST_HEADERS).orElse("Authorization, Content-Type"));
                    res.header(HeaderNames.ACCESS_CONTROL_MAX_AGE, "600");
                }
                res.status(allowed ? Status.NO_CONTENT_204 : Status.FORBIDDEN_403).send();
                return;
            }
            chain.proceed();
        };
    }
}
