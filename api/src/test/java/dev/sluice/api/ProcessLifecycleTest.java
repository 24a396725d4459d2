package dev.sluice.api;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.sluice.api.TestServer.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server as a process, the way bin/server runs it: a SIGTERM drains, logs it, and exits 0. */
class ProcessLifecycleTest {

    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

    @Test
    void aPortThatIsTakenIsAnErrorAndTheProcessExits() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            String java = ProcessHandle.current().info().command().orElse("java");
            Process process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), "dev.sluice.api.Main",
                    "--host", "127.0.0.1", "--port", Integer.toString(taken.getLocalPort()),
                    "--model", TestServer.modelPath().toString(), "--device", "cpu", "--threads", "1",
                    "--kv-cache-memory", "8MiB").redirectErrorStream(true).start();
            try {
                assertTrue(process.waitFor(2, TimeUnit.MINUTES), "the process exited");
                String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertEquals(1, process.exitValue(), out);
                assertTrue(out.contains("error: could not listen on 127.0.0.1:" + taken.getLocalPort()), out);
            } finally {
                process.destroyForcibly();
            }
        }
    }

    @Test
    void sigtermDrainsInFlightStreamsLogsThemAndExitsZero() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Djava.util.logging.config.class=dev.sluice.api.LoggingSetup",
                "-cp", System.getProperty("java.class.path"), "dev.sluice.api.Main",
                "--port", "0", "--model", TestServer.modelPath().toString(), "--model-name", TestServer.MODEL,
                "--device", "cpu", "--threads", "1", "--kv-cache-memory", "8MiB", "--max-model-len", "1024",
                "--shutdown-drain-seconds", "60"));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    log.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (Exception e) {
                log.add("reader failed: " + e);
                port.completeExceptionally(e);
            }
        });
        try {
            int p = port.get(120, TimeUnit.SECONDS);
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            URI base = URI.create("http://127.0.0.1:" + p);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (http.send(HttpRequest.newBuilder(base.resolve("/health")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() != 200) {
                assertTrue(System.nanoTime() < deadline, "the model did not load: " + log);
                Thread.sleep(50);
            }
            HttpRequest streaming = HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(TestServer.json(chat("Tell a long story.", "stream", true,
                            "max_tokens", 300, "ignore_eos", true, "temperature", 0,
                            "stream_options", Map.of("include_usage", true))))).build();
            try (SseStream stream = SseStream.open(http, streaming)) {
                stream.next(); // generating
                process.toHandle().destroy(); // SIGTERM (Process.destroy() would also close our end of its output)
                List<SseStream.Event> rest = stream.readAll();
                assertTrue(rest.getLast().isDone(), "the stream finished after the signal");
                SseStream.Event usage = rest.get(rest.size() - 2);
                assertEquals(300, usage.json().get("usage").get("completion_tokens").intValue(), "drained, not cut");
            }
            assertTrue(process.waitFor(2, TimeUnit.MINUTES), "the process exited");
            assertEquals(0, process.exitValue(), "a clean drain exits 0: " + String.join("\n", log));
            reader.join(10_000);
            String all = String.join("\n", log);
            assertTrue(all.contains("SIGTERM: draining in-flight requests"), all);
            assertTrue(Pattern.compile("POST /v1/chat/completions 200").matcher(all).find(),
                    "the drained request's access-log line: " + all);
            assertNotNull(log.stream().filter(l -> l.contains(": stopped")).findFirst().orElse(null), all);
        } finally {
            process.destroyForcibly();
        }
    }
}
