package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.PrometheusText;
import dev.sluice.api.TestServer;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server process killed with SIGKILL in the middle of a batch and started again on the same
 * data dir: the batch resumes and completes, every custom_id is answered exactly once, and the
 * lines that had finished before the kill are neither lost nor run again.
 */
class BatchCrashTest {

    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
    private static final int LINES = 40;

    /** A server process on {@code dataDir}, its port, and its log. */
    private record Server(Process process, int port, List<String> log) {
        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + port + path);
        }
    }

    private static Server start(Path dataDir) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Djava.util.logging.config.class=dev.sluice.api.LoggingSetup",
                "-cp", System.getProperty("java.class.path"), "dev.sluice.api.Main",
                "--port", "0", "--model", TestServer.modelPath().toString(), "--model-name", TestServer.MODEL,
                "--device", "cpu", "--threads", "1", "--kv-cache-memory", "8MiB", "--max-model-len", "1024",
                "--data-dir", dataDir.toString(), "--batch-max-in-flight", "2"));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    log.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (Exception e) {
                port.completeExceptionally(e);
            }
        });
        return new Server(process, port.get(120, TimeUnit.SECONDS), log);
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static HttpResponse<String> get(Server s, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(s.uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode batch(Server s, String id) throws Exception {
        HttpResponse<String> r = get(s, "/v1/batches/" + id);
        assertEquals(200, r.statusCode(), r.body());
        return TestServer.parse(r.body());
    }

    /** Finished lines in the database: line number -> the id of its result line. */
    private static Map<Integer, String> finishedLines(Path dataDir) throws Exception {
        Map<Integer, String> out = new HashMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("sluice.db"));
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT line, result FROM batch_lines WHERE state != 0")) {
            while (rs.next()) {
                out.put(rs.getInt(1), TestServer.parse(rs.getString(2)).get("id").textValue());
            }
        }
        return out;
    }

    @Test
    void sigkillMidBatchResumesWithEveryLineExactlyOnce() throws Exception {
        Path dataDir = TestServer.freshDataDir();
        StringBuilder input = new StringBuilder();
        Set<String> ids = new TreeSet<>();
        for (int i = 0; i < LINES; i++) {
            input.append(BatchSdkTest.chatLine("k-" + i, "Number " + i, 24)).append('\n');
            ids.add("k-" + i);
        }
        Server first = start(dataDir);
        String batchId;
        Map<Integer, String> before;
        try {
            awaitHealthy(first);
            String boundary = "sluiceboundary";
            String multipart = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
                    + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
                    + "Content-Type: application/jsonl\r\n\r\n" + input + "\r\n--" + boundary + "--\r\n";
            HttpResponse<String> file = HTTP.send(HttpRequest.newBuilder(first.uri("/v1/files"))
                    .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                    .POST(HttpRequest.BodyPublishers.ofString(multipart)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, file.statusCode(), file.body());
            HttpResponse<String> created = HTTP.send(HttpRequest.newBuilder(first.uri("/v1/batches"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(TestServer.json(Map.of(
                            "input_file_id", TestServer.parse(file.body()).get("id").textValue(),
                            "endpoint", "/v1/chat/completions", "completion_window", "24h")))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, created.statusCode(), created.body());
            batchId = TestServer.parse(created.body()).get("id").textValue();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (batch(first, batchId).at("/request_counts/completed").intValue() < 5) {
                assertTrue(System.nanoTime() < deadline, "the batch did not progress: " + first.log());
                Thread.sleep(20);
            }
        } finally {
            first.process().destroyForcibly(); // SIGKILL
            first.process().waitFor(1, TimeUnit.MINUTES);
        }
        before = finishedLines(dataDir);
        assertTrue(before.size() >= 5 && before.size() < LINES, "killed mid-batch: " + before.size() + " lines finished");

        Server second = start(dataDir);
        try {
            awaitHealthy(second);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
            JsonNode b;
            while (!(b = batch(second, batchId)).get("status").textValue().equals("completed")) {
                assertTrue(System.nanoTime() < deadline, "the batch did not resume: " + b + second.log());
                Thread.sleep(50);
            }
            assertEquals(LINES, b.at("/request_counts/total").intValue());
            assertEquals(LINES, b.at("/request_counts/completed").intValue(), b.toString());
            HttpResponse<String> output = get(second, "/v1/files/" + b.get("output_file_id").textValue() + "/content");
            Map<String, String> resultIds = new HashMap<>();
            for (String line : output.body().split("\n")) {
                JsonNode l = TestServer.parse(line);
                assertNull(resultIds.put(l.get("custom_id").textValue(), l.get("id").textValue()), "twice: " + line);
                assertEquals(200, l.at("/response/status_code").intValue(), line);
            }
            assertEquals(ids, new TreeSet<>(resultIds.keySet()), "every custom_id, exactly once");
            // What had finished before the kill is in the output as it was recorded then (not run again).
            for (Map.Entry<Integer, String> e : before.entrySet()) {
                assertEquals(e.getValue(), resultIds.get("k-" + (e.getKey() - 1)), "line " + e.getKey());
            }
            // The restarted engine ran only what had not finished (lines in flight at the kill included).
            double ran = PrometheusText.parse(get(second, "/metrics").body()).samples().stream()
                    .filter(s -> s.name().equals("sluice:request_success_total")).mapToDouble(PrometheusText.Sample::value).sum();
            assertEquals(LINES - before.size(), (int) ran, "requests the second process ran");
        } finally {
            second.process().destroyForcibly();
            second.process().waitFor(1, TimeUnit.MINUTES);
        }
    }

    private static void awaitHealthy(Server s) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (get(s, "/health").statusCode() != 200) {
            assertTrue(System.nanoTime() < deadline, "the model did not load: " + s.log());
            Thread.sleep(50);
        }
    }
}
