package dev.sluice.api.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.Option;
import dev.sluice.api.PrometheusText;
import dev.sluice.api.ServerConfig;
import dev.sluice.api.TestServer;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * deploy/kubernetes, rendered with {@code kubectl kustomize} and checked: every object field by
 * field ({@link ManifestCheck}), and the Sluice Deployment against the server itself: its
 * environment is loaded by {@link ServerConfig} (so every name is an {@link Option} and every
 * value parses), its probe paths answer 200 on a real server, its ports line up, CPU requests
 * equal the compute threads, the grace period outlasts preStop plus drain, and every metric name
 * the autoscalers and the endpoint picker read is a gauge Sluice exports.
 */
class DeployManifestsTest {

    private static final Map<String, List<JsonNode>> RENDERED = new LinkedHashMap<>();
    private static TestServer server;
    private static PrometheusText metrics;

    @BeforeAll
    static void render() throws Exception {
        assumeTrue(Manifests.kubectlAvailable(), "kubectl is not installed, so deploy/kubernetes is not rendered or "
                + "checked (bin/test installs kubectl with apt-get where it can; Debian: apt-get install kubectl)");
        Path root = Manifests.root();
        try (Stream<Path> overlays = Files.list(root.resolve("overlays"))) {
            for (Path overlay : overlays.sorted().toList()) {
                RENDERED.put(overlay.getFileName().toString(), Manifests.render(overlay));
            }
        }
        RENDERED.put("prometheus-adapter", Manifests.render(root.resolve("prometheus-adapter")));
        server = TestServer.start();
        metrics = server.metrics();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void everyOverlayRendersAndEveryObjectIsWellFormed() {
        assertEquals(Set.of("cpu", "gpu", "gie", "keda", "prometheus-adapter"), RENDERED.keySet());
        RENDERED.forEach((overlay, objects) -> {
            assertFalse(objects.isEmpty(), overlay);
            for (JsonNode object : objects) {
                List<String> problems = ManifestCheck.problems(object);
                assertTrue(problems.isEmpty(), overlay + ": " + String.join("\n", problems));
            }
        });
        assertEquals(Set.of("Deployment", "Service", "PodDisruptionBudget", "PersistentVolumeClaim", "ServiceMonitor",
                "HorizontalPodAutoscaler"), kinds("cpu"));
        assertEquals(kinds("cpu"), kinds("gpu"));
        Set<String> keda = kinds("cpu").stream().filter(k -> !k.equals("HorizontalPodAutoscaler")).collect(Collectors.toSet());
        keda.add("ScaledObject");
        assertEquals(keda, kinds("keda"), "KEDA replaces the HPA");
        assertTrue(kinds("gie").containsAll(Set.of("InferencePool", "HTTPRoute", "ConfigMap", "Role", "RoleBinding")));
    }

    @Test
    void aTypoIsCaught() {
        ObjectNode deployment = one("cpu", "Deployment", "sluice").deepCopy();
        ((ObjectNode) deployment.path("spec").path("template").path("spec").path("containers").get(0))
                .set("readinesProbe", deployment.path("spec").path("template").path("spec").path("containers").get(0)
                        .path("readinessProbe"));
        assertTrue(ManifestCheck.problems(deployment).stream().anyMatch(p -> p.contains("readinesProbe")),
                () -> ManifestCheck.problems(deployment).toString());
        ObjectNode pool = one("gie", "InferencePool", "sluice").deepCopy();
        ((ObjectNode) pool.path("spec")).put("targetPort", 8080);
        assertTrue(ManifestCheck.problems(pool).stream().anyMatch(p -> p.contains("targetPort")));
        ObjectNode config = one("gie", "ConfigMap", "sluice-epp-config").deepCopy();
        ObjectNode data = (ObjectNode) config.path("data");
        data.put("epp-config.yaml", data.path("epp-config.yaml").asText().replace("kvUsageSpec", "kvUsage"));
        assertTrue(ManifestCheck.problems(config).stream().anyMatch(p -> p.contains("kvUsage:")
                || p.contains(".kvUsage")), () -> ManifestCheck.problems(config).toString());
    }

    @Test
    void theDeploymentMatchesTheServersOptionsAndRoutes() throws Exception {
        for (String overlay : List.of("cpu", "gpu", "gie", "keda")) {
            Deployment deployment = Manifests.STRICT.treeToValue(one(overlay, "Deployment", "sluice"), Deployment.class);
            PodSpec pod = deployment.getSpec().getTemplate().getSpec();
            Container sluice = pod.getContainers().stream().filter(c -> c.getName().equals("sluice")).findFirst().orElseThrow();
            Map<String, String> env = new HashMap<>();
            Set<String> known = Arrays.stream(Option.values()).map(Option::environmentVariable).collect(Collectors.toSet());
            for (EnvVar e : sluice.getEnv()) {
                assertTrue(known.contains(e.getName()), overlay + ": " + e.getName() + " is no option of Sluice");
                env.put(e.getName(), e.getValue());
            }
            ServerConfig config = ServerConfig.load(sluice.getArgs().toArray(String[]::new), env);
            assertEquals("0.0.0.0", config.host(), overlay + ": listens beyond loopback");
            int http = sluice.getPorts().stream().filter(p -> p.getName().equals("http")).findFirst().orElseThrow()
                    .getContainerPort();
            assertEquals(config.port(), http, overlay + ": the container port is the one Sluice listens on");

            for (Probe probe : List.of(sluice.getStartupProbe(), sluice.getReadinessProbe(), sluice.getLivenessProbe())) {
                HTTPGetAction get = probe.getHttpGet();
                assertEquals("http", get.getPort().getStrVal(), overlay + ": probes go to the http port");
                assertEquals(200, server.get(get.getPath()).statusCode(), overlay + ": " + get.getPath() + " on a real server");
            }
            assertEquals("/health/ready", sluice.getReadinessProbe().getHttpGet().getPath());
            assertEquals("/health/live", sluice.getLivenessProbe().getHttpGet().getPath());

            long preStop = sluice.getLifecycle().getPreStop().getSleep().getSeconds();
            assertTrue(pod.getTerminationGracePeriodSeconds() > preStop + config.shutdownDrainSeconds(), overlay
                    + ": the grace period outlasts preStop (" + preStop + " s) and the drain ("
                    + config.shutdownDrainSeconds() + " s)");

            assertTrue(config.threads() > 0, overlay + ": SLUICE_THREADS set (0 would count the node's cores)");
            assertEquals(config.threads(), sluice.getResources().getRequests().get("cpu").getNumericalAmount().intValueExact(),
                    overlay + ": CPU request = compute threads");

            assertTrue(sluice.getVolumeMounts().stream().anyMatch(m -> config.model().startsWith(m.getMountPath())),
                    overlay + ": the model is on a mounted volume");
            Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
            JsonNode service = one(overlay, "Service", "sluice");
            assertSubset(service.path("spec").path("selector"), podLabels, overlay + " Service selector");
            assertEquals("http", service.path("spec").path("ports").get(0).path("targetPort").asText());
            assertSubset(one(overlay, "PodDisruptionBudget", "sluice").path("spec").path("selector").path("matchLabels"),
                    podLabels, overlay + " PDB selector");
            JsonNode monitor = one(overlay, "ServiceMonitor", "sluice");
            assertSubset(monitor.path("spec").path("selector").path("matchLabels"), toMap(service.path("metadata").path("labels")),
                    overlay + " ServiceMonitor selector");
            JsonNode endpoint = monitor.path("spec").path("endpoints").get(0);
            assertEquals("http", endpoint.path("port").asText());
            assertEquals(200, server.get(endpoint.path("path").asText()).statusCode(), "the scraped path");
        }
    }

    @Test
    void theAutoscalersReadAQueueSluiceExports() throws Exception {
        JsonNode rules = Manifests.YAML.readTree(one("prometheus-adapter", "ConfigMap", "prometheus-adapter-sluice")
                .path("data").path("config.yaml").asText()).path("rules");
        assertEquals(1, rules.size());
        JsonNode rule = rules.get(0);
        String series = metricName(rule.path("seriesQuery").asText());
        assertEquals("sluice:num_requests_waiting", series);
        assertGauge(series);
        String served = series.replaceAll(rule.path("name").path("matches").asText(),
                rule.path("name").path("as").asText().replace("${1}", "$1"));
        for (String overlay : List.of("cpu", "gpu", "gie")) {
            JsonNode hpa = one(overlay, "HorizontalPodAutoscaler", "sluice");
            assertEquals("sluice", hpa.path("spec").path("scaleTargetRef").path("name").asText());
            assertEquals(served, hpa.path("spec").path("metrics").get(0).path("pods").path("metric").path("name").asText(),
                    overlay + ": the HPA reads the metric the adapter rule serves");
        }
        JsonNode scaled = one("keda", "ScaledObject", "sluice");
        assertEquals("sluice", scaled.path("spec").path("scaleTargetRef").path("name").asText());
        String query = scaled.path("spec").path("triggers").get(0).path("metadata").path("query").asText();
        assertEquals(series, metricName(query));
        assertTrue(query.contains("namespace=\"" + one("keda", "Deployment", "sluice").path("metadata").path("namespace").asText()
                + "\""), "the KEDA query selects the overlay's namespace: " + query);
    }

    @Test
    void theInferencePoolAndItsPickerFitTheServer() throws Exception {
        JsonNode pool = one("gie", "InferencePool", "sluice");
        Deployment sluice = Manifests.STRICT.treeToValue(one("gie", "Deployment", "sluice"), Deployment.class);
        Map<String, String> podLabels = sluice.getSpec().getTemplate().getMetadata().getLabels();
        assertSubset(pool.path("spec").path("selector").path("matchLabels"), podLabels, "InferencePool selector");
        assertEquals(8080, pool.path("spec").path("targetPorts").get(0).path("number").asInt());
        Map<String, String> env = new HashMap<>();
        sluice.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
        assertEquals(ServerConfig.load(new String[0], env).port(), pool.path("spec").path("targetPorts").get(0).path("number").asInt());

        JsonNode picker = pool.path("spec").path("endpointPickerRef");
        JsonNode eppService = one("gie", "Service", picker.path("name").asText());
        assertTrue(java.util.stream.StreamSupport.stream(eppService.path("spec").path("ports").spliterator(), false)
                .anyMatch(p -> p.path("port").asInt() == picker.path("port").path("number").asInt()), "the picker's port");
        List<String> args = Manifests.STRICT.treeToValue(one("gie", "Deployment", "sluice-epp"), Deployment.class)
                .getSpec().getTemplate().getSpec().getContainers().getFirst().getArgs();
        assertEquals(pool.path("metadata").path("name").asText(), args.get(args.indexOf("--pool-name") + 1));
        JsonNode route = one("gie", "HTTPRoute", "sluice").path("spec").path("rules").get(0).path("backendRefs").get(0);
        assertEquals("InferencePool", route.path("kind").asText());
        assertEquals(pool.path("metadata").path("name").asText(), route.path("name").asText());

        JsonNode config = Manifests.YAML.readTree(one("gie", "ConfigMap", "sluice-epp-config").path("data")
                .path("epp-config.yaml").asText());
        JsonNode extractor = null;
        for (JsonNode plugin : config.path("plugins")) {
            if (plugin.path("type").asText().equals("core-metrics-extractor")) {
                extractor = plugin.path("parameters");
            }
        }
        assertTrue(extractor != null, "the picker's config names its metrics");
        String engine = extractor.path("defaultEngine").asText();
        assertEquals(engine, podLabels.get("inference.networking.k8s.io/engine-type"), "the pods carry the engine label");
        JsonNode names = extractor.path("engineConfigs").get(0);
        assertEquals(engine, names.path("name").asText());
        for (String field : List.of("queuedRequestsSpec", "runningRequestsSpec", "kvUsageSpec", "cacheInfoSpec")) {
            assertGauge(metricName(names.path(field).asText()));
        }
        assertEquals("", names.path("loraSpec").asText(), "no adapters");
        PrometheusText.Sample cache = metrics.samples().stream()
                .filter(s -> s.name().equals(metricName(names.path("cacheInfoSpec").asText()))).findFirst().orElseThrow();
        assertTrue(cache.labels().keySet().containsAll(Set.of("block_size", "num_gpu_blocks")), cache.toString());
        Set<String> pluginNames = new java.util.HashSet<>();
        config.path("plugins").forEach(p -> pluginNames.add(p.has("name") ? p.path("name").asText() : p.path("type").asText()));
        config.findValues("pluginRef").forEach(ref -> assertTrue(pluginNames.contains(ref.asText()), "plugin " + ref));
    }

    /** The metric a PromQL selector or query names first. */
    private static String metricName(String promql) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*(\\{|$)").matcher(promql);
        assertTrue(m.find(), promql);
        return m.group(1);
    }

    private static void assertGauge(String family) {
        assertEquals("gauge", metrics.types().get(family), family + " is a gauge Sluice exports");
    }

    private static Set<String> kinds(String overlay) {
        return RENDERED.get(overlay).stream().map(o -> o.path("kind").asText()).collect(Collectors.toSet());
    }

    /** The one object of {@code kind} named {@code name}, or with Kustomize's hash suffix (generated ConfigMaps). */
    static JsonNode one(String overlay, String kind, String name) {
        List<JsonNode> found = RENDERED.get(overlay).stream().filter(o -> o.path("kind").asText().equals(kind)
                && o.path("metadata").path("name").asText().matches(java.util.regex.Pattern.quote(name) + "(-[a-z0-9]{10})?"))
                .toList();
        assertEquals(1, found.size(), overlay + ": " + kind + " " + name);
        return found.getFirst();
    }

    static Map<String, String> toMap(JsonNode node) {
        Map<String, String> map = new LinkedHashMap<>();
        node.properties().forEach(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }

    static void assertSubset(JsonNode selector, Map<String, String> labels, String what) {
        assertFalse(selector.isEmpty(), what + " is empty");
        toMap(selector).forEach((k, v) -> assertEquals(v, labels.get(k), what + " " + k));
    }

    static Map<String, List<JsonNode>> rendered() {
        return RENDERED;
    }

    static PrometheusText metrics() {
        return metrics;
    }
}
