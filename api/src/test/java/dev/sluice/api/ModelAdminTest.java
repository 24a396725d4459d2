package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.TestDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.sluice.api.TestServer.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The admin API on a server started with {@code --model} alone: its own key, loading and
 * unloading versions while it serves (memory comes back), and loads that cannot work refused
 * with the reason.
 */
class ModelAdminTest {

    static final String ADMIN_KEY = "admin-secret";
    static final String CLIENT_KEY = "client-secret";

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start("--api-key", CLIENT_KEY, "--admin-api-key", ADMIN_KEY);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    static HttpResponse<String> admin(String method, String path, Object body, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofMinutes(3))
                .header("Content-Type", "application/json");
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(TestServer.json(body)));
        return server.send(b.build());
    }

    static HttpResponse<String> admin(String method, String path, Object body) {
        return admin(method, path, body, ADMIN_KEY);
    }

    @Test
    void theAdminApiTakesOnlyTheAdminKeyAndClientsOnlyTheirs() throws Exception {
        assertEquals("invalid_api_key", assertError(admin("GET", "/admin/models", null, CLIENT_KEY), 401).get("code").textValue());
        assertError(admin("GET", "/admin/models", null, null), 401);
        assertError(admin("PUT", "/admin/routes/" + TestServer.MODEL, Map.of("weights", Map.of("1", 100)), CLIENT_KEY), 401);
        HttpResponse<String> ok = admin("GET", "/admin/models", null);
        assertEquals(200, ok.statusCode(), ok::body);
        JsonNode models = TestServer.parse(ok.body());
        assertEquals(TestServer.MODEL + ":1", models.get("data").get(0).get("id").textValue());
        assertEquals("ready", models.get("data").get(0).get("state").textValue());
        // The admin key is no client key.
        assertError(server.send(HttpRequest.newBuilder(server.uri("/v1/models"))
                .header("Authorization", "Bearer " + ADMIN_KEY).GET().build()), 401);
        assertEquals(200, server.get("/v1/models").statusCode());

        // Without --admin-api-key there is no admin API at all.
        try (TestServer plain = TestServer.start()) {
            assertError(plain.get("/admin/models"), 404);
            assertError(plain.post("/admin/models", Map.of("name", "x", "version", "1", "path", "/etc/hostname")), 404);
        }
    }

    @Test
    void aVersionLoadedWhileServingIsRoutableAndUnloadingIt() throws Exception {
        HttpResponse<String> loaded = admin("POST", "/admin/models?wait=false", Map.of("name", TestServer.MODEL,
                "version", "2", "path", TestServer.modelPath().toString(), "max_model_len", 256));
        assertEquals(202, loaded.statusCode(), loaded::body);
        String state;
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        do {
            Thread.sleep(20);
            state = TestServer.parse(admin("GET", "/admin/models/" + TestServer.MODEL + "/versions/2", null).body())
                    .get("state").textValue();
        } while (state.equals("loading") && System.nanoTime() < deadline);
        assertEquals("ready", state);
        assertEquals(409, admin("POST", "/admin/models", Map.of("name", TestServer.MODEL, "version", "2",
                "path", TestServer.modelPath().toString())).statusCode());
        // Pinned at once; routed after a route names it.
        assertEquals("2", server.post("/v1/completions", TestServer.completion("hi", "model", TestServer.MODEL + ":2",
                "max_tokens", 1)).headers().firstValue("X-Sluice-Model-Version").orElseThrow());
        assertEquals(200, admin("PUT", "/admin/routes/" + TestServer.MODEL, Map.of("weights", Map.of("2", 100))).statusCode());
        assertEquals("2", server.post("/v1/completions", TestServer.completion("hi", "max_tokens", 1))
                .headers().firstValue("X-Sluice-Model-Version").orElseThrow());
        JsonNode inUse = assertError(admin("DELETE", "/admin/models/" + TestServer.MODEL + "/versions/2", null), 409);
        assertEquals("version_in_use", inUse.get("code").textValue());
        assertEquals(200, admin("POST", "/admin/routes/" + TestServer.MODEL + "/rollback", null).statusCode());
        HttpResponse<String> deleted = admin("DELETE", "/admin/models/" + TestServer.MODEL + "/versions/2?drain=5", null);
        assertEquals(200, deleted.statusCode(), deleted::body);
        assertEquals("unloaded", TestServer.parse(deleted.body()).get("state").textValue());
        assertError(server.post("/v1/completions", TestServer.completion("hi", "model", TestServer.MODEL + ":2")), 404);
        assertError(admin("GET", "/admin/models/" + TestServer.MODEL + "/versions/2", null), 404);
        assertEquals(200, server.post("/v1/completions", TestServer.completion("hi", "max_tokens", 1)).statusCode());
    }

    @Test
    void unloadingAVersionGivesItsMemoryBack() throws Exception {
        assumeTrue(TestDevice.serverDevice().equals("cpu"), "skipped: measures host RSS, and the weights are on the GPU");
        // The 135M-parameter demo shape (Q8_0, ~145 MB of weights): big enough to see in RSS.
        long before = rssBytes();
        HttpResponse<String> loaded = admin("POST", "/admin/models", Map.of("name", "big", "version", "1",
                "demo", "smollm2-135m-shape", "kv_cache_memory", "32MiB", "max_model_len", 256));
        assertEquals(201, loaded.statusCode(), loaded::body);
        long weights = TestServer.parse(loaded.body()).get("weights_bytes").longValue();
        // One generation touches every weight (the mapped pages come in).
        assertEquals(200, server.post("/v1/completions", Map.of("model", "big", "prompt", "hi", "max_tokens", 2)).statusCode());
        long loadedRss = rssBytes();
        assertTrue(loadedRss - before > weights / 2, String.format("RSS grew %.1f MB for %.1f MB of weights",
                (loadedRss - before) / 1e6, weights / 1e6));
        HttpResponse<String> deleted = admin("DELETE", "/admin/models/big/versions/1", null);
        assertEquals(200, deleted.statusCode(), deleted::body);
        long after = rssBytes();
        System.out.printf("RSS: %.1f MB before load, %.1f MB loaded, %.1f MB after unload (weights %.1f MB)%n",
                before / 1e6, loadedRss / 1e6, after / 1e6, weights / 1e6);
        assertTrue(loadedRss - after > weights / 2, String.format("unload returned %.1f MB of %.1f MB of weights",
                (loadedRss - after) / 1e6, weights / 1e6));
        assertError(server.post("/v1/completions", Map.of("model", "big", "prompt", "hi")), 404);
    }

    static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void aVersionThatCannotLoadIsRefusedWithTheReasonAndLeavesNothingBehind() throws Exception {
        JsonNode tooBig = assertError(admin("POST", "/admin/models", Map.of("name", "huge", "version", "1",
                "path", TestServer.modelPath().toString(), "kv_cache_tokens", 2_000_000_000)), 400);
        assertEquals("insufficient_memory", tooBig.get("code").textValue());
        String message = tooBig.get("message").textValue();
        assertTrue(message.contains("MB of weights") && message.contains("MB of KV cache") && message.contains("available"),
                message);

        Path junk = dir.resolve("junk.gguf");
        Files.writeString(junk, "this is not a GGUF file");
        assertEquals("model_load_failed", assertError(admin("POST", "/admin/models", Map.of("name", "junk", "version", "1",
                "path", junk.toString())), 400).get("code").textValue());
        assertTrue(assertError(admin("POST", "/admin/models", Map.of("name", "gone", "version", "1",
                "path", dir.resolve("missing.gguf").toString())), 400).get("message").textValue().contains("No model file"));
        assertError(admin("POST", "/admin/models", Map.of("name", "bad name!", "version", "1",
                "path", junk.toString())), 400);
        assertError(admin("POST", "/admin/models", Map.of("name", "x", "version", "1", "path", junk.toString(),
                "colour", "blue")), 400);

        List<String> ids = new ArrayList<>();
        TestServer.parse(admin("GET", "/admin/models", null).body()).get("data").forEach(m -> ids.add(m.get("id").textValue()));
        assertFalse(ids.contains("huge:1") || ids.contains("junk:1"), ids.toString());
        assertEquals(200, server.get("/health").statusCode(), "failed loads leave the server ready");
        // Routes can only name versions that exist.
        assertError(admin("PUT", "/admin/routes/" + TestServer.MODEL, Map.of("weights", Map.of("9", 100))), 400);
        assertError(admin("PUT", "/admin/routes/" + TestServer.MODEL, Map.of("weights", Map.of("1", -1))), 400);
        assertError(admin("PUT", "/admin/routes/nobody", Map.of("weights", Map.of("1", 100))), 404);
    }
}
