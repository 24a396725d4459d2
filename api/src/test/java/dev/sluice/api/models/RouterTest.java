package dev.sluice.api.models;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.api.http.ApiException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The router's pure parts: the sticky hash, the guard's two checks, rollback history, the file format. */
class RouterTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static ModelRegistry registryWith(String name, String... versions) {
        ModelRegistry registry = new ModelRegistry(spec -> null, (engine, v) -> null, null);
        for (String v : versions) {
            registry.add(ModelSpec.of(name, v, Path.of("/nonexistent/" + v + ".gguf")));
        }
        return registry;
    }

    private static Route route(String json) throws Exception {
        return Route.fromJson(JSON.readTree(json));
    }

    @Test
    void theStickyHashIsUniformAndIndependentPerVersion() {
        int n = 100_000;
        int[] buckets = new int[10];
        int agree = 0;
        for (int i = 0; i < n; i++) {
            double a = Router.unitHash("user-" + i, "1");
            double b = Router.unitHash("user-" + i, "2");
            assertTrue(a > 0 && a <= 1);
            buckets[(int) Math.min(9, a * 10)]++;
            agree += (a < 0.5) == (b < 0.5) ? 1 : 0;
        }
        for (int count : buckets) {
            assertTrue(Math.abs(count - n / 10) < 600, "bucket " + count); // sd ≈ 95
        }
        assertTrue(Math.abs(agree - n / 2) < 1000, "versions' hashes correlate: " + agree);
        assertEquals(Router.unitHash("k", "1"), Router.unitHash("k", "1"));
    }

    @Test
    void aGuardRollsBackOnTheCanarysErrorRate() throws Exception {
        ModelRegistry registry = registryWith("m", "1", "2");
        Router router = new Router(registry);
        router.setRoute("m", Route.single("1"));
        router.setRoute("m", route("{\"weights\": {\"1\": 90, \"2\": 10}, \"guard\": {\"max_error_rate\": 0.1, \"min_requests\": 20}}"));
        ModelVersion stable = registry.get("m", "1").orElseThrow();
        ModelVersion canary = registry.get("m", "2").orElseThrow();
        for (int i = 0; i < 100; i++) {
            router.recordResult(stable, i % 4 == 0, 1_000_000); // the stable version's own failures never trip it
        }
        for (int i = 0; i < 19; i++) {
            router.recordResult(canary, i % 2 == 0, 1_000_000); // half fail, but the window is not full yet
        }
        assertEquals(Map.of("1", 90, "2", 10), router.route("m").weights());
        router.recordResult(canary, false, 1_000_000);
        assertEquals(Map.of("1", 100), router.route("m").weights(), "rolled back at the 20th request");
        assertEquals(1, router.rollbacks("m")[1]);
    }

    @Test
    void aGuardRollsBackOnTheCanarysTimeToFirstToken() throws Exception {
        ModelRegistry registry = registryWith("m", "1", "2");
        Router router = new Router(registry);
        router.setRoute("m", route("{\"weights\": {\"1\": 90, \"2\": 10}, \"guard\": {\"max_ttft_p99_ratio\": 1.5, \"min_requests\": 50}}"));
        ModelVersion stable = registry.get("m", "1").orElseThrow();
        ModelVersion canary = registry.get("m", "2").orElseThrow();
        for (int i = 0; i < 200; i++) {
            router.recordResult(stable, false, 10_000_000 + i * 10_000L); // p99 ≈ 12 ms
        }
        for (int i = 0; i < 49; i++) {
            router.recordResult(canary, false, 30_000_000); // 30 ms: 2.5 x
        }
        assertEquals(2, router.route("m").weights().size());
        router.recordResult(canary, false, 30_000_000);
        // No earlier route: the guard sends everything to the stable version.
        assertEquals(Map.of("1", 100), router.route("m").weights());
    }

    @Test
    void aCanaryWithinItsGuardStays() throws Exception {
        ModelRegistry registry = registryWith("m", "1", "2");
        Router router = new Router(registry);
        router.setRoute("m", route("{\"weights\": {\"1\": 50, \"2\": 50}, \"guard\": {\"max_error_rate\": 0.05, "
                + "\"max_ttft_p99_ratio\": 1.5, \"min_requests\": 10}}"));
        for (int i = 0; i < 500; i++) {
            router.recordResult(registry.get("m", "1").orElseThrow(), false, 10_000_000);
            router.recordResult(registry.get("m", "2").orElseThrow(), i % 100 == 99, 11_000_000); // 1 %
        }
        assertEquals(2, router.route("m").weights().size());
        assertEquals(0, router.rollbacks("m")[0]);
    }

    @Test
    void rollbackGoesBackOneRouteAtATimeAndNeverToAnUnloadedVersion() throws Exception {
        ModelRegistry registry = registryWith("m", "1", "2", "3");
        Router router = new Router(registry);
        router.setRoute("m", Route.single("1"));
        router.setRoute("m", route("{\"weights\": {\"1\": 50, \"2\": 50}}"));
        router.setRoute("m", Route.single("3"));
        assertEquals(Map.of("1", 50, "2", 50), router.rollback("m", "test").weights());
        assertEquals(Map.of("1", 100), router.rollback("m", "test").weights());
        assertEquals(409, assertThrows(ApiException.class, () -> router.rollback("m", "test")).status().code());

        router.setRoute("m", Route.single("2"));
        router.setRoute("m", Route.single("3"));
        registry.unload(registry.get("m", "2").orElseThrow(), java.time.Duration.ZERO);
        ApiException refused = assertThrows(ApiException.class, () -> router.rollback("m", "test"));
        assertTrue(refused.getMessage().contains("unloaded"), refused.getMessage());
        assertThrows(ApiException.class, () -> router.setRoute("m", Route.single("9")));
    }

    @Test
    void routesAndFilesSayWhatIsWrong() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> route("{\"weights\": {\"1\": 0}}"));
        assertThrows(IllegalArgumentException.class, () -> route("{\"weights\": {\"1\": 1.5}}"));
        assertThrows(IllegalArgumentException.class, () -> route("{\"weights\": {\"1\": 1}, \"sticky\": \"cookie\"}"));
        assertThrows(IllegalArgumentException.class, () -> route("{\"weights\": {\"1\": 1}, \"shadow\": {\"version\": \"2\", \"percent\": 0}}"));
        assertThrows(IllegalArgumentException.class, () -> route("{\"weights\": {\"1\": 1}, \"guard\": {\"max_error_rate\": 2}}"));
        Route r = route("{\"weights\": {\"1\": 90, \"2\": 10}, \"sticky\": \"header:X-Session-Id\", "
                + "\"shadow\": {\"version\": \"3\", \"percent\": 5}, \"guard\": {\"max_error_rate\": 0.02, \"min_requests\": 50}}");
        assertEquals(r, Route.fromJson(r.toJson()), "routes read back what they write");

        ModelsFile file = ModelsFile.parse(JSON.readTree("""
                {"models": [{"name": "q", "version": "1", "path": "q1.gguf"}, {"name": "q", "version": "2", "path": "/abs/q2.gguf"},
                            {"name": "d", "version": "1", "demo": "tiny-llama", "max_model_len": 256}],
                 "routes": {"q": {"weights": {"1": 90, "2": 10}}}}"""), Path.of("/etc/sluice"));
        assertEquals(Path.of("/etc/sluice/q1.gguf"), file.models().get(0).path(), "relative to the file");
        assertEquals(Path.of("/abs/q2.gguf"), file.models().get(1).path());
        assertEquals(Route.single("1"), file.routes().get("d"), "a name without a route goes to its first version");
        assertEquals(256, file.models().get(2).maxModelLen());
        for (String bad : new String[] {
                "{\"models\": []}",
                "{\"models\": [{\"name\": \"q\", \"version\": \"1\"}]}",
                "{\"models\": [{\"name\": \"q\", \"version\": \"1\", \"path\": \"a\"}, {\"name\": \"q\", \"version\": \"1\", \"path\": \"b\"}]}",
                "{\"models\": [{\"name\": \"q\", \"version\": \"1\", \"path\": \"a\"}], \"routes\": {\"q\": {\"weights\": {\"2\": 1}}}}",
                "{\"models\": [{\"name\": \"q\", \"version\": \"1\", \"demo\": \"no-such-preset\"}]}",
                "{\"models\": [{\"name\": \"q\", \"version\": \"1\", \"path\": \"a\"}], \"extra\": 1}"}) {
            assertThrows(IllegalArgumentException.class, () -> ModelsFile.parse(JSON.readTree(bad), Path.of("/")), bad);
        }
    }
}
