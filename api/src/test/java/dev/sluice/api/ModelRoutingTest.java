package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;
import dev.sluice.testing.TestDevice;
import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.sluice.api.TestServer.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several models and versions behind one real server, started from a {@code --models} file:
 * stories260K (real weights) as {@code stories}, and the tiny Qwen2 as {@code tiny} in three
 * versions (1 and 3 with the same weights, 2 with others). Routes are changed through the admin
 * API; every request is a real generation.
 */
class ModelRoutingTest {

    static final String ADMIN_KEY = "admin-secret";
    static final String CLIENT_KEY = "client-secret";

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        Path stories = TestModels.stories260K();
        Path tiny = TestServer.modelPath();
        Path other = TestModelGenerator.ensure(Preset.TINY_QWEN2, WeightType.F16, TestServer.MODEL_SEED + 1);
        Path file = dir.resolve("models.yaml");
        Files.writeString(file, """
                models:
                  - {name: stories, version: "1", path: "%s"}
                  - {name: tiny, version: "1", path: "%s"}
                  - {name: tiny, version: "2", path: "%s", max_model_len: 512}
                  - {name: tiny, version: "3", path: "%s"}
                routes:
                  tiny: {weights: {"1": 100}}
                """.formatted(stories, tiny, other, tiny));
        server = TestServer.startModels(ServerConfig.load(new String[] {"--port", "0", "--models", file.toString(),
                "--device", TestDevice.serverDevice(), "--threads", "1", "--kv-cache-memory", "8MiB", "--max-model-len", "1024",
                "--api-key", CLIENT_KEY, "--admin-api-key", ADMIN_KEY}, Map.of()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    static HttpResponse<String> admin(String method, String path, Object body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofMinutes(2))
                .header("Authorization", "Bearer " + ADMIN_KEY).header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(TestServer.json(body)));
        return server.send(b.build());
    }

    static void route(String name, Object route) {
        HttpResponse<String> r = admin("PUT", "/admin/routes/" + name, route);
        assertEquals(200, r.statusCode(), r::body);
    }

    /** One short greedy completion of {@code model}; returns the response. */
    static HttpResponse<String> complete(String model, Object... more) {
        Map<String, Object> body = new HashMap<>(Map.of("model", model, "prompt", "Once upon a time", "max_tokens", 1,
                "temperature", 0));
        for (int i = 0; i < more.length; i += 2) {
            body.put((String) more[i], more[i + 1]);
        }
        return server.post("/v1/completions", body);
    }

    static String servedVersion(HttpResponse<String> response) {
        assertEquals(200, response.statusCode(), response::body);
        return response.headers().firstValue("X-Sluice-Model-Version").orElseThrow();
    }

    @Test
    void modelsListsEveryNameAndThePinnedVersionsOfNamesWithSeveral() {
        JsonNode list = TestServer.parse(server.get("/v1/models").body());
        assertEquals("list", list.get("object").textValue());
        List<String> ids = new ArrayList<>();
        list.get("data").forEach(m -> ids.add(m.get("id").textValue()));
        assertEquals(List.of("stories", "tiny", "tiny:1", "tiny:2", "tiny:3"), ids);
        for (JsonNode m : list.get("data")) {
            assertEquals("model", m.get("object").textValue());
            assertEquals("sluice", m.get("owned_by").textValue());
            assertTrue(m.get("created").isIntegralNumber());
        }
        JsonNode v2 = TestServer.parse(server.get("/v1/models/tiny:2").body());
        assertEquals("2", v2.get("version").textValue());
        assertEquals("ready", v2.get("state").textValue());
        assertEquals("tiny", v2.get("root").textValue());
        assertEquals(512, v2.get("max_model_len").intValue(), "per-version max_model_len");
        JsonNode tiny = TestServer.parse(server.get("/v1/models/tiny").body());
        assertEquals(1024, tiny.get("max_model_len").intValue());
        assertTrue(tiny.get("route").has("weights"));
        assertError(server.get("/v1/models/tiny:9"), 404);

        // Each model answers with its own tokenizer: stories260K's vocabulary is not Qwen2's.
        JsonNode storiesTokens = TestServer.parse(server.post("/tokenize", Map.of("model", "stories", "prompt", "Once")).body());
        JsonNode tinyTokens = TestServer.parse(server.post("/tokenize", Map.of("model", "tiny:1", "prompt", "Once")).body());
        assertNotEquals(storiesTokens.get("tokens"), tinyTokens.get("tokens"));
        HttpResponse<String> stories = complete("stories");
        assertEquals("1", servedVersion(stories));
        assertEquals("stories", TestServer.parse(stories.body()).get("model").textValue(),
                "a name with one version is answered as the name");
        // With several names, a request must name one.
        assertError(server.post("/v1/completions", Map.of("prompt", "x", "max_tokens", 1)), 400);
    }

    @Test
    void pinnedVersionsAreServedByThatVersion() {
        route("tiny", Map.of("weights", Map.of("1", 100)));
        for (String v : List.of("1", "2", "3")) {
            HttpResponse<String> r = complete("tiny:" + v);
            assertEquals(v, servedVersion(r));
            assertEquals("tiny:" + v, TestServer.parse(r.body()).get("model").textValue());
        }
        HttpResponse<String> routed = complete("tiny");
        assertEquals("1", servedVersion(routed));
        assertEquals("tiny:1", TestServer.parse(routed.body()).get("model").textValue());
        assertEquals("model_not_found", assertError(complete("tiny:7"), 404).get("code").textValue());
    }

    @Test
    void aNinetyTenRouteSplitsTrafficWithinBinomialTolerance() throws Exception {
        route("tiny", Map.of("weights", Map.of("1", 90, "2", 10)));
        int n = 1000;
        Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                done.add(pool.submit(() -> counts.computeIfAbsent(servedVersion(complete("tiny")), k -> new AtomicInteger())
                        .incrementAndGet()));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        int canary = counts.getOrDefault("2", new AtomicInteger()).get();
        assertEquals(n, counts.values().stream().mapToInt(AtomicInteger::get).sum());
        assertEquals(Set.of("1", "2"), counts.keySet());
        // Binomial(1000, 0.1): mean 100, sd 9.5; ±4.5 sd fails a correct router once in ~150,000 runs.
        assertTrue(Math.abs(canary - 100) <= 43, "canary got " + canary + " of " + n);
        PrometheusText m = server.metrics();
        assertEquals(90, value(m, "sluice:route_weight", "1"));
        assertEquals(10, value(m, "sluice:route_weight", "2"));
    }

    @Test
    void stickyKeysKeepTheirVersionAndMoveMinimallyWhenWeightsChange() {
        route("tiny", Map.of("weights", Map.of("1", 50, "2", 50), "sticky", "user"));
        Map<String, String> first = new HashMap<>();
        for (int u = 0; u < 40; u++) {
            String user = "user-" + u;
            String version = servedVersion(complete("tiny", "user", user));
            first.put(user, version);
            for (int again = 0; again < 3; again++) {
                assertEquals(version, servedVersion(complete("tiny", "user", user)), user + " switched version");
            }
        }
        assertEquals(Set.of("1", "2"), Set.copyOf(first.values()), "both versions get users");
        // Less weight for 2: some of its users move to 1, and no user of 1 moves.
        route("tiny", Map.of("weights", Map.of("1", 80, "2", 20), "sticky", "user"));
        int moved = 0;
        for (Map.Entry<String, String> e : first.entrySet()) {
            String now = servedVersion(complete("tiny", "user", e.getKey()));
            if (e.getValue().equals("1")) {
                assertEquals("1", now, e.getKey() + " moved off version 1 though 1 gained weight");
            } else if (!now.equals(e.getValue())) {
                moved++;
            }
        }
        assertTrue(moved > 0, "some of version 2's users move when it loses weight");
        // A header can be the key instead.
        route("tiny", Map.of("weights", Map.of("1", 50, "2", 50), "sticky", "header:X-Session-Id"));
        for (int s = 0; s < 10; s++) {
            String session = "session-" + s;
            HttpRequest.Builder b = server.request("/v1/completions").header("Content-Type", "application/json")
                    .header("X-Session-Id", session)
                    .POST(HttpRequest.BodyPublishers.ofString(TestServer.json(Map.of("model", "tiny", "prompt", "hi",
                            "max_tokens", 1))));
            String version = servedVersion(server.send(b.build()));
            for (int again = 0; again < 2; again++) {
                assertEquals(version, servedVersion(server.send(b.build())));
            }
        }
    }

    @Test
    void aShadowSeesEveryRequestAndTheClientOnlyThePrimary() throws Exception {
        route("tiny", Map.of("weights", Map.of("1", 100)));
        PrometheusText before = server.metrics();
        route("tiny", Map.of("weights", Map.of("1", 100), "shadow", Map.of("version", "3", "percent", 100)));
        int n = 12;
        for (int i = 0; i < n; i++) {
            Map<String, Object> body = Map.of("model", "tiny", "prompt", "Shadow request " + i, "max_tokens", 8, "temperature", 0);
            HttpResponse<String> shadowed = server.post("/v1/completions", body);
            assertEquals("1", servedVersion(shadowed));
            JsonNode answer = TestServer.parse(shadowed.body());
            assertEquals("tiny:1", answer.get("model").textValue());
            assertEquals(1, answer.get("choices").size());
            // What the client got is exactly the primary's answer.
            Map<String, Object> pinned = new HashMap<>(body);
            pinned.put("model", "tiny:1");
            JsonNode direct = TestServer.parse(server.post("/v1/completions", pinned).body());
            assertEquals(direct.get("choices").get(0).get("text"), answer.get("choices").get(0).get("text"));
        }
        // Streams are shadowed too.
        try (SseStream stream = SseStream.open(server.http(), server.request("/v1/completions")
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(TestServer.json(
                        Map.of("model", "tiny", "prompt", "streamed", "max_tokens", 4, "temperature", 0, "stream", true))))
                .build())) {
            assertTrue(stream.readAll().getLast().isDone());
        }
        // Version 3 has version 1's weights: greedy answers agree, every one.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        PrometheusText after;
        do {
            Thread.sleep(50);
            after = server.metrics();
        } while (delta(before, after, "sluice:shadow_compared_total", "3") < n + 1 && System.nanoTime() < deadline);
        assertEquals(n + 1, delta(before, after, "sluice:shadow_requests_total", "3"));
        assertEquals(n + 1, delta(before, after, "sluice:shadow_compared_total", "3"));
        assertEquals(n + 1, delta(before, after, "sluice:shadow_agreements_total", "3"));
        assertEquals(0, delta(before, after, "sluice:version_requests_total", "3"), "shadow copies are not client requests");
        route("tiny", Map.of("weights", Map.of("1", 100)));
    }

    static double delta(PrometheusText before, PrometheusText after, String name, String version) {
        return value(after, name, version) - value(before, name, version);
    }

    static double value(PrometheusText m, String name, String version) {
        return m.samples().stream().filter(s -> s.name().equals(name) && "tiny".equals(s.labels().get("model_name"))
                && version.equals(s.labels().get("version"))).mapToDouble(PrometheusText.Sample::value).sum();
    }

    @Test
    void rollbackUnderSixteenConcurrentStreamsLosesNothing() throws Exception {
        route("tiny", Map.of("weights", Map.of("1", 100)));
        route("tiny", Map.of("weights", Map.of("1", 50, "2", 50)));
        int clients = 16;
        int each = 3;
        AtomicInteger finished = new AtomicInteger();
        Map<String, AtomicInteger> versions = new ConcurrentHashMap<>();
        List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Long> rollbackNanos = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        try (SseStream stream = SseStream.open(server.http(), server.request("/v1/chat/completions")
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(TestServer.json(Map.of("model", "tiny",
                                        "messages", List.of(Map.of("role", "user", "content", "Tell me a story.")),
                                        "max_tokens", 24, "ignore_eos", true, "stream", true))))
                                .build())) {
                            int status = stream.response().statusCode();
                            if (status != 200) {
                                problems.add("status " + status);
                                continue;
                            }
                            List<SseStream.Event> events = stream.readAll();
                            JsonNode last = events.get(events.size() - 2).json();
                            if (!events.getLast().isDone() || last.get("choices").get(0).get("finish_reason").isNull()) {
                                problems.add("unfinished stream: " + events.getLast().text());
                            }
                            versions.computeIfAbsent(stream.response().headers().firstValue("X-Sluice-Model-Version")
                                    .orElse("?"), k -> new AtomicInteger()).incrementAndGet();
                            finished.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            // While they stream: all traffic to 2, back at once, and again.
            for (int flip = 0; flip < 3; flip++) {
                Thread.sleep(300);
                route("tiny", Map.of("weights", Map.of("2", 100)));
                Thread.sleep(300);
                long start = System.nanoTime();
                HttpResponse<String> back = admin("POST", "/admin/routes/tiny/rollback", null);
                rollbackNanos.add(System.nanoTime() - start);
                assertEquals(200, back.statusCode(), back::body);
                assertEquals(50, TestServer.parse(back.body()).get("weights").get("1").intValue());
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        assertEquals(List.of(), problems);
        assertEquals(clients * each, finished.get());
        assertTrue(versions.keySet().containsAll(Set.of("1", "2")), versions.toString());
        System.out.printf("rollback under %d streams: %s ms; streams per version %s%n", clients,
                rollbackNanos.stream().map(n -> String.format("%.1f", n / 1e6)).toList(), versions);
        route("tiny", Map.of("weights", Map.of("1", 100)));
        // A route with no earlier one to go back to says so.
        assertEquals("no_previous_route", assertError(admin("POST", "/admin/routes/stories/rollback", null), 409)
                .get("code").textValue());
    }

    @Test
    void aGuardRollsBackACanaryWhoseRequestsFail() throws Exception {
        HttpResponse<String> load = admin("POST", "/admin/models", Map.of("name", "tiny", "version", "4",
                "path", TestServer.modelPath().toString()));
        assertEquals(201, load.statusCode(), load::body);
        route("tiny", Map.of("weights", Map.of("1", 100)));
        route("tiny", Map.of("weights", Map.of("1", 50, "4", 50),
                "guard", Map.of("max_error_rate", 0.2, "min_requests", 3)));
        try {
            breakTheCanaryAndWatchTheGuard();
        } finally {
            route("tiny", Map.of("weights", Map.of("1", 100)));
            HttpResponse<String> unload = admin("DELETE", "/admin/models/tiny/versions/4", null);
            assertEquals(200, unload.statusCode(), unload::body);
        }
    }

    private static void breakTheCanaryAndWatchTheGuard() {
        // The canary's engine breaks: its native runner goes away, and every step it takes fails.
        ModelVersion canary = server.server().registry().get("tiny", "4").orElseThrow();
        canary.serviceOrNull().engine().runner().close();
        int failures = 0;
        for (int i = 0; i < 200 && server.server().router().route("tiny").weights().containsKey("4"); i++) {
            HttpResponse<String> r = complete("tiny");
            if (r.statusCode() != 200) {
                assertEquals(500, r.statusCode(), r::body);
                failures++;
            }
        }
        assertFalse(server.server().router().route("tiny").weights().containsKey("4"), "the guard rolled the route back");
        assertTrue(failures >= 3, "failures seen: " + failures);
        assertEquals(Map.of("1", 100), server.server().router().route("tiny").weights());
        assertEquals(1, server.metrics().value("sluice:route_guard_rollbacks_total", "model_name", "tiny"));
        // Traffic now only reaches the stable version, and succeeds.
        for (int i = 0; i < 10; i++) {
            assertEquals("1", servedVersion(complete("tiny")));
        }
        JsonNode routes = TestServer.parse(admin("GET", "/admin/routes", null).body());
        assertEquals(1, routes.get("tiny").get("guard_rollbacks").intValue());
    }
}
