package dev.sluice.api.web;

import dev.sluice.api.ServerConfig;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.ErrorHandlers;
import dev.sluice.api.http.Filters;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The browser pages: the chat page at {@code /}, the operations dashboard at {@code /dashboard},
 * their files under {@code /ui/} (plain ES modules and CSS from {@code web/} on the class path,
 * no build step, nothing from another origin), and the dashboard's data at
 * {@code /dashboard/data} ({@link DashboardData}).
 *
 * <p>The pages hold no data, so they load without a key; the data they fetch is guarded: the chat
 * page calls {@code /v1} with the API key (it asks for it on a 401 and keeps it in session
 * storage), and the dashboard's data takes the admin key when one is set (it shows every model,
 * route and rollback), else the API key when one is set, else nothing.
 *
 * <p>Every response forbids inline script and style and any other origin (CSP), so model output
 * that slipped into the DOM as markup still could not run. Files are revalidated on each load
 * ({@code no-cache}) against their ETag: a 304 on loopback costs nothing, and a new build is never
 * served stale from a browser's cache.
 */
public final class WebService implements HttpService {

    /** Only this origin, no inline script or style, no eval, no plugins, no framing. */
    public static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
            + "frame-ancestors 'none'";

    private static final List<String> FILES = List.of("index.html", "dashboard.html", "sluice.css", "icon.svg",
            "api.js", "sse.js", "markdown.js", "chat.js", "store.js", "prometheus.js", "charts.js", "dashboard.js");

    private final Map<String, StaticFile> files = new LinkedHashMap<>();
    private final DashboardData dashboard;
    private final List<String> dashboardKeys;
    private final boolean adminKeyGuards;

    public WebService(DashboardData dashboard, ServerConfig config) {
        FILES.forEach(name -> files.put(name, StaticFile.load(name)));
        this.dashboard = dashboard;
        this.adminKeyGuards = !config.adminApiKeys().isEmpty();
        this.dashboardKeys = adminKeyGuards ? config.adminApiKeys() : config.apiKeys();
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", (req, res) -> serve(req, res, files.get("index.html")))
                .get("/dashboard", (req, res) -> serve(req, res, files.get("dashboard.html")))
                .get("/dashboard/data", this::data)
                .get("/ui/{file}", this::file)
                .any("/", ErrorHandlers.methodNotAllowed("GET"))
                .any("/dashboard", ErrorHandlers.methodNotAllowed("GET"))
                .any("/dashboard/data", ErrorHandlers.methodNotAllowed("GET"));
    }

    private void file(ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("file");
        StaticFile file = name.endsWith(".html") ? null : files.get(name); // pages have their own paths
        if (file == null) {
            throw ApiException.notFound("No file /ui/" + (name.length() <= 64 ? name : name.substring(0, 64) + "…") + ".",
                    null, null);
        }
        serve(req, res, file);
    }

    private static void serve(ServerRequest req, ServerResponse res, StaticFile file) {
        securityHeaders(res);
        res.header(HeaderNames.ETAG, file.etag());
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        if (file.matches(req.headers().first(HeaderNames.IF_NONE_MATCH).orElse(null))) {
            res.status(Status.NOT_MODIFIED_304).send();
            return;
        }
        res.header(HeaderNames.CONTENT_TYPE, file.contentType());
        res.send(file.bytes());
    }

    private void data(ServerRequest req, ServerResponse res) {
        if (!dashboardKeys.isEmpty()
                && !Filters.bearerMatches(req.headers().first(HeaderNames.AUTHORIZATION).orElse(null), dashboardKeys)) {
            throw new ApiException(Status.UNAUTHORIZED_401, "invalid_request_error", adminKeyGuards
                    ? "The dashboard needs an admin API key (--admin-api-key) in an Authorization header using Bearer auth."
                    : "The dashboard needs an API key (--api-key) in an Authorization header using Bearer auth.",
                    null, "invalid_api_key");
        }
        securityHeaders(res);
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(dashboard.snapshot().toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void securityHeaders(ServerResponse res) {
        res.header(HeaderNames.create("Content-Security-Policy"), CONTENT_SECURITY_POLICY);
        res.header(HeaderNames.X_CONTENT_TYPE_OPTIONS, "nosniff");
        res.header(HeaderNames.create("Referrer-Policy"), "no-referrer");
    }
}
