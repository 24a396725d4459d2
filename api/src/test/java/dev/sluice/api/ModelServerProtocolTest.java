package dev.sluice.api;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Gateway API Inference Extension's model server protocol (proposal 003) against a real
 * server: the gauges its endpoint picker reads by default exist, are gauges with one series each,
 * and mean what the protocol says: queued requests rise when requests queue, running requests
 * are the running batch, KV-cache utilisation is a fraction, and cache and LoRA info carry the
 * labels the picker parses.
 */
class ModelServerProtocolTest {

    /** The picker's default metric names (GIE's core-metrics-extractor, engine "vllm"). */
    static final List<String> PICKER_DEFAULTS = List.of("vllm:num_requests_waiting", "vllm:num_requests_running",
            "vllm:kv_cache_usage_perc", "vllm:lora_requests_info", "vllm:cache_config_info");

    private static TestServer server;

    @BeforeAll
    static void start() {
        // One sequence per step: a second request must queue behind the first.
        server = TestServer.start("--max-seqs", "1");
    }

    @AfterAll
    static void stop() throws InterruptedException {
        server.close();
    }

    @Test
    void everyFamilyThePickerReadsIsOneGaugeSeries() throws Exception {
        server.awaitIdle(Duration.ofSeconds(30));
        PrometheusText m = server.metrics();
        List<String> families = new ArrayList<>(PICKER_DEFAULTS);
        families.add("vllm:gpu_cache_usage_perc");
        for (String family : families) {
            assertEquals("gauge", m.types().get(family), family + " is a gauge");
            assertEquals(1, m.samples().stream().filter(s -> s.name().equals(family)).count(), family + ": one series");
        }
        assertEquals(0, m.value("vllm:num_requests_waiting"));
        assertEquals(0, m.value("vllm:num_requests_running"));
        assertEquals(0, m.value("vllm:kv_cache_usage_perc"));
        assertEquals(0, m.value("vllm:gpu_cache_usage_perc"));

        Map<String, String> cache = labels(m, "vllm:cache_config_info");
        assertEquals("16", cache.get("block_size"), "--block-size");
        assertEquals((long) m.value("sluice:kv_cache_blocks_total"), Long.parseLong(cache.get("num_gpu_blocks")));
        assertEquals(1, m.value("vllm:cache_config_info"));

        Map<String, String> lora = labels(m, "vllm:lora_requests_info");
        assertEquals(Map.of("max_lora", "0", "running_lora_adapters", "", "waiting_lora_adapters", ""), lora);
        double now = System.currentTimeMillis() / 1000.0;
        double stamp = m.value("vllm:lora_requests_info");
        assertTrue(stamp > now - 3600 && stamp <= now, "a Unix time in seconds: " + stamp);
    }

    @Test
    void queuedRunningAndKvUsageFollowTheLoad() throws Exception {
        server.awaitIdle(Duration.ofSeconds(30));
        int clients = 3;
        boolean sawQueue = false;
        double peakUsage = 0;
        List<Future<HttpResponse<String>>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < clients; i++) {
                results.add(pool.submit(() -> server.post("/v1/completions", TestServer.completion("Once upon a time",
                        "max_tokens", 600, "ignore_eos", true))));
            }
            // Scrape while they run: with one sequence per step, one runs and the others queue.
            boolean done = false;
            while (!done) {
                PrometheusText m = server.metrics();
                double waiting = m.value("vllm:num_requests_waiting");
                double running = m.value("vllm:num_requests_running");
                double usage = m.value("vllm:kv_cache_usage_perc");
                assertTrue(running <= 1, "--max-seqs 1 runs one request at a time: " + running);
                assertTrue(waiting + running <= clients, "waiting " + waiting + " + running " + running);
                assertTrue(usage >= 0 && usage <= 1, "a fraction: " + usage);
                assertEquals(usage, m.value("vllm:gpu_cache_usage_perc"), "the alias has the same value");
                if (running == 1 && waiting >= 1) {
                    sawQueue = true;
                }
                peakUsage = Math.max(peakUsage, usage);
                done = results.stream().allMatch(Future::isDone);
            }
        }
        for (Future<HttpResponse<String>> r : results) {
            assertEquals(200, r.get().statusCode(), r.get()::body);
        }
        assertTrue(sawQueue, "a scrape saw one request running and others queued");
        assertTrue(peakUsage > 0, "KV cache in use while generating");
        server.awaitIdle(Duration.ofSeconds(30));
        PrometheusText idle = server.metrics();
        assertEquals(0, idle.value("vllm:num_requests_waiting"));
        assertEquals(0, idle.value("vllm:num_requests_running"));
        assertEquals(0, idle.value("vllm:kv_cache_usage_perc"));
    }

    private static Map<String, String> labels(PrometheusText m, String name) {
        List<PrometheusText.Sample> found = m.samples().stream().filter(s -> s.name().equals(name)).toList();
        assertEquals(1, found.size(), name);
        return found.getFirst().labels();
    }
}
