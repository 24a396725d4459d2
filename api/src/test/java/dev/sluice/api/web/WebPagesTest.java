package dev.sluice.api.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.PrometheusText;
import dev.sluice.api.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The browser pages over plain HTTP (no browser needed): content types, the Content-Security-Policy
 * and cache headers, revalidation with the ETag, errors in OpenAI's shape, and who may read what
 * when the server has an API key and an admin key.
 */
class WebPagesTest {

    static final String API_KEY = "client-key";
    static final String ADMIN_KEY = "admin-key";
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start("--api-key", API_KEY, "--admin-api-key", ADMIN_KEY);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** GET without any key. */
    static HttpResponse<String> open(String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).GET();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return server.send(b.build());
    }

    @Test
    void pagesAndTheirFilesLoadWithoutAKeyWithTheirTypesAndHeaders() {
        Map<String, String> types = Map.of("/", "text/html; charset=utf-8", "/dashboard", "text/html; charset=utf-8",
                "/ui/chat.js", "text/javascript; charset=utf-8", "/ui/markdown.js", "text/javascript; charset=utf-8",
                "/ui/sluice.css", "text/css; charset=utf-8", "/ui/icon.svg", "image/svg+xml");
        types.forEach((path, type) -> {
            HttpResponse<String> r = open(path);
            assertEquals(200, r.statusCode(), path);
            assertEquals(type, r.headers().firstValue("Content-Type").orElse(null), path);
            String csp = r.headers().firstValue("Content-Security-Policy").orElse("");
            assertTrue(csp.contains("default-src 'self'") && csp.contains("script-src 'self'")
                    && csp.contains("style-src 'self'") && !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval")
                    && !csp.contains("http"), path + ": " + csp);
            assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(null), path);
            assertEquals("no-cache", r.headers().firstValue("Cache-Control").orElse(null), path);
            assertTrue(r.headers().firstValue("ETag").orElse("").matches("\"[0-9a-f]{24}\""), path);
        });
        // Every file the pages load comes from this server: no other origin anywhere in them.
        for (String path : List.of("/", "/dashboard", "/ui/chat.js", "/ui/dashboard.js", "/ui/sluice.css")) {
            String body = open(path).body();
            assertFalse(body.matches("(?s).*(src|href)=\"(https?:)?//.*"), path + " loads something from another origin");
            assertFalse(body.contains("<script>") || body.contains(" style=\""), path + " has inline script or style");
        }
    }

    @Test
    void anUnchangedFileIsRevalidatedWithA304() {
        HttpResponse<String> first = open("/ui/chat.js");
        String etag = first.headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> again = open("/ui/chat.js", "If-None-Match", etag);
        assertEquals(304, again.statusCode());
        assertEquals("", again.body());
        assertEquals(etag, again.headers().firstValue("ETag").orElse(null));
        assertEquals(304, open("/ui/chat.js", "If-None-Match", "\"other\", W/" + etag).statusCode());
        assertEquals(200, open("/ui/chat.js", "If-None-Match", "\"other\"").statusCode());
        assertEquals(200, open("/ui/markdown.js", "If-None-Match", etag).statusCode(), "another file's tag");
    }

    @Test
    void unknownFilesAndWrongMethodsGetOpenAiErrors() {
        TestServer.assertError(open("/ui/nope.js"), 404);
        TestServer.assertError(open("/ui/index.html"), 404); // pages have their own paths
        TestServer.assertError(open("/ui/..%2Fapplication.yaml"), 404);
        HttpResponse<String> post = server.send(HttpRequest.newBuilder(server.uri("/")).POST(HttpRequest.BodyPublishers.ofString("x")).build());
        TestServer.assertError(post, 405);
        assertEquals("GET", post.headers().firstValue("Allow").orElse(null));
    }

    @Test
    void theApiStillNeedsItsKeyAndTheDashboardDataTheAdminKey() {
        TestServer.assertError(open("/v1/models"), 401);
        TestServer.assertError(open("/metrics"), 401);
        JsonNode error = TestServer.assertError(open("/dashboard/data"), 401);
        assertTrue(error.get("message").textValue().contains("admin"), error::toString);
        TestServer.assertError(open("/dashboard/data", "Authorization", "Bearer " + API_KEY), 401);
        HttpResponse<String> ok = open("/dashboard/data", "Authorization", "Bearer " + ADMIN_KEY);
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals("no-store", ok.headers().firstValue("Cache-Control").orElse(null));
    }

    @Test
    void withoutAnAdminKeyTheDashboardDataTakesTheApiKey() throws Exception {
        try (TestServer clientKeyOnly = TestServer.start("--api-key", API_KEY)) {
            HttpRequest.Builder data = HttpRequest.newBuilder(clientKeyOnly.uri("/dashboard/data"));
            JsonNode error = TestServer.assertError(clientKeyOnly.send(data.copy().build()), 401);
            assertTrue(error.get("message").textValue().contains("--api-key"), error::toString);
            assertEquals(200, clientKeyOnly.send(data.copy().header("Authorization", "Bearer " + API_KEY).build()).statusCode());
            assertEquals(200, clientKeyOnly.send(HttpRequest.newBuilder(clientKeyOnly.uri("/")).build()).statusCode());
        }
    }

    @Test
    void theDashboardDataIsTheMetricsExpositionPlusTheRoutes() {
        JsonNode data = TestServer.parse(open("/dashboard/data", "Authorization", "Bearer " + ADMIN_KEY).body());
        PrometheusText fromData = PrometheusText.parse(data.get("metrics").textValue());
        PrometheusText fromMetrics = server.metrics();
        assertEquals(fromMetrics.types(), fromData.types(), "the same families, from the same code");
        assertEquals(fromMetrics.value("sluice:kv_cache_blocks_total"), fromData.value("sluice:kv_cache_blocks_total"));
        JsonNode route = data.get("routes").get(TestServer.MODEL);
        assertEquals(100, route.get("weights").get("1").intValue(), route::toString);
        assertEquals("1", route.get("stable").textValue());
        assertEquals("ready", route.get("versions").get("1").get("state").textValue());
        assertEquals(0, route.get("rollbacks").intValue());
    }
}
