package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.sluice.api.TestServer.chat;
import static dev.sluice.api.TestServer.completion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clients that wait too long, stop reading, stop sending or leave: each costs the server a
 * bounded time, after which its request ends and its KV blocks are free.
 */
class ClientBehaviourTest {

    /** A raw HTTP/1.1 request with a JSON body. */
    private static byte[] post(String path, String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\n\r\n";
        byte[] head8 = head.getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[head8.length + body.length];
        System.arraycopy(head8, 0, all, 0, head8.length);
        System.arraycopy(body, 0, all, head8.length, body.length);
        return all;
    }

    /** Polls until {@code what} holds, for up to {@code timeout}. */
    private static boolean eventually(Duration timeout, java.util.function.BooleanSupplier what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (what.getAsBoolean()) {
                return true;
            }
            Thread.sleep(20);
        }
        return what.getAsBoolean();
    }

    private static double aborted(TestServer server) {
        return server.metrics().value("sluice:request_success_total", "finished_reason", "abort");
    }

    @Test
    void aRequestPastItsTimeoutEndsWithLengthAndKeepsItsOutput() throws Exception {
        try (TestServer server = TestServer.start("--request-timeout", "1")) {
            long start = System.nanoTime();
            // 16 choices x 1000 tokens: many seconds of work for one thread.
            JsonNode body = server.postOk("/v1/completions", completion("Once upon a time", "n", 16, "max_tokens", 1000,
                    "ignore_eos", true, "temperature", 0));
            double seconds = (System.nanoTime() - start) / 1e9;
            int completion = body.get("usage").get("completion_tokens").intValue();
            assertTrue(completion > 0 && completion < 16 * 1000, "cut short with its output kept: " + completion);
            for (JsonNode choice : body.get("choices")) {
                assertEquals("length", choice.get("finish_reason").textValue());
            }
            assertTrue(seconds < 30, "answered at its deadline, not at the end: " + seconds + " s");
            assertEquals(1, server.metrics().value("sluice:request_timeouts_total"));
            server.awaitIdle(Duration.ofSeconds(10));
        }
    }

    @Test
    void aNonStreamingClientThatLeavesCancelsItsRequest() throws Exception {
        try (TestServer server = TestServer.start("--kv-cache-memory", "16MiB")) {
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                socket.getOutputStream().write(post("/v1/completions", TestServer.json(completion("Once upon a time",
                        "n", 16, "max_tokens", 1000, "ignore_eos", true, "temperature", 0))));
                socket.getOutputStream().flush();
                assertTrue(eventually(Duration.ofSeconds(30),
                        () -> server.metrics().value("sluice:kv_cache_blocks_used") > 0), "the request is running");
            } // the client closes its connection without reading a byte
            assertTrue(eventually(Duration.ofSeconds(30), () -> aborted(server) == 1), "the request was cancelled");
            assertEquals(0, server.metrics().value("sluice:request_success_total", "finished_reason", "length"),
                    "it did not run to max_tokens");
            server.awaitIdle(Duration.ofSeconds(10));
        }
    }

    @Test
    void aStreamingClientThatStopsReadingIsCancelledAndItsConnectionClosed() throws Exception {
        // A long idle timeout: the connection must be closed because its stream was cut short, not because it idled.
        try (TestServer server = TestServer.start("--stalled-client-timeout", "1", "--kv-cache-memory", "32MiB",
                "--max-response-tokens", "1000000", "--http-idle-timeout", "60")) {
            try (Socket socket = new Socket()) {
                socket.setReceiveBufferSize(4096);
                socket.connect(new InetSocketAddress("127.0.0.1", server.port()));
                // Lots of output (32 choices with 20 alternatives per token): far more than socket buffers hold.
                socket.getOutputStream().write(post("/v1/chat/completions", TestServer.json(chat("Once upon a time",
                        "n", 32, "max_tokens", 1000, "logprobs", true, "top_logprobs", 20, "ignore_eos", true,
                        "stream", true))));
                socket.getOutputStream().flush();
                // Never read: the server's writes block, its stream backs up, and the clock runs. Whichever
                // notices first (the engine: output unread; the connection guard: a write blocked) ends it.
                assertTrue(eventually(Duration.ofSeconds(120), () -> aborted(server) == 1), "the request was cancelled");
                server.awaitIdle(Duration.ofSeconds(10));
                // And its connection was closed: reading drains what was buffered, then ends.
                socket.setSoTimeout(30_000);
                InputStream in = socket.getInputStream();
                byte[] buffer = new byte[65536];
                boolean closed = false;
                try {
                    while (in.read(buffer) >= 0) {
                        // drain
                    }
                    closed = true;
                } catch (IOException e) {
                    closed = !(e instanceof SocketTimeoutException); // reset by the server counts as closed
                }
                assertTrue(closed, "the server closed the connection");
            }
            server.postOk("/v1/completions", completion("x", "max_tokens", 2));
        }
    }

    @Test
    void responsesAnnounceHowLongAnIdleConnectionStaysOpen() throws Exception {
        try (TestServer server = TestServer.start("--http-idle-timeout", "42")) {
            assertEquals("timeout=42", server.get("/health").headers().firstValue("Keep-Alive").orElse(null));
            var streamed = server.post("/v1/completions", completion("x", "max_tokens", 2, "stream", true));
            assertEquals(200, streamed.statusCode());
            assertEquals("timeout=42", streamed.headers().firstValue("Keep-Alive").orElse(null), "streams too");
            // A client that closes the connection after this request is told nothing about keeping it.
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                socket.setSoTimeout(20_000);
                socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                String head = responseHead(socket.getInputStream());
                assertTrue(head.startsWith("HTTP/1.1 200"), head);
                assertFalse(head.toLowerCase(java.util.Locale.ROOT).contains("keep-alive:"), head);
            }
        }
    }

    /** The status line and headers of the response on {@code in}, read up to the blank line. */
    private static String responseHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        for (int b; (b = in.read()) >= 0; ) {
            head.append((char) b);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                return head.substring(0, head.length() - 4);
            }
        }
        return head.toString();
    }

    @Test
    void aRequestThatRunsLongerThanTheIdleTimeoutKeepsItsConnection() throws Exception {
        // Idle means between requests: a request in progress (here its body arrives over 2.5 s) is
        // not idle, and its response promised keep-alive, so the connection must take a next request.
        // Helidon's own reaper counted from the request's start and closed such connections after
        // their response, unannounced: a client reusing one got no bytes back (bin/bench at 64).
        try (TestServer server = TestServer.start("--http-idle-timeout", "1")) {
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                socket.setSoTimeout(20_000);
                byte[] request = post("/v1/completions", TestServer.json(completion("Once upon a time", "max_tokens", 2)));
                int headEnd = SseStream.indexOf(request, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII)) + 4;
                OutputStream out = socket.getOutputStream();
                out.write(request, 0, headEnd);
                out.flush();
                int pieces = 5;
                for (int i = 0; i < pieces; i++) {
                    Thread.sleep(500);
                    int from = headEnd + (request.length - headEnd) * i / pieces;
                    int to = headEnd + (request.length - headEnd) * (i + 1) / pieces;
                    out.write(request, from, to - from);
                    out.flush();
                }
                InputStream in = socket.getInputStream();
                String first = readResponse(in);
                assertTrue(first.startsWith("HTTP/1.1 200"), first);
                assertTrue(first.contains("timeout=1"), "it promised keep-alive: " + first);

                out.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String second = readResponse(in);
                assertTrue(second.startsWith("HTTP/1.1 200"), "the connection took a next request: '" + second + "'");
            }
            // And a connection left idle past the timeout is still closed.
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                socket.setSoTimeout(20_000);
                socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                InputStream in = socket.getInputStream();
                assertTrue(readResponse(in).startsWith("HTTP/1.1 200"));
                long start = System.nanoTime();
                boolean closed;
                try {
                    closed = in.read() < 0;
                } catch (IOException e) {
                    closed = !(e instanceof SocketTimeoutException);
                }
                assertTrue(closed, "an idle connection is closed");
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "within a few seconds of the 1 s timeout");
            }
        }
    }

    /** One HTTP/1.1 response with a Content-Length body, head and body as text; "" if the connection ended first. */
    private static String readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return head.toString();
            }
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        byte[] body = in.readNBytes(length);
        return head + new String(body, StandardCharsets.UTF_8);
    }

    @Test
    void connectionsThatStopSendingAreClosed() throws Exception {
        try (TestServer server = TestServer.start("--http-read-timeout", "1", "--http-idle-timeout", "1")) {
            List<Socket> sockets = new ArrayList<>();
            try {
                String[] partial = {
                    "",                                                                  // nothing at all
                    "POS",                                                               // half a request line
                    "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: appl",   // half the headers
                    "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            + "Content-Length: 100\r\n\r\n{\"prompt\": \"x\"",              // a third of the body
                };
                for (int i = 0; i < 40; i++) {
                    Socket socket = new Socket("127.0.0.1", server.port());
                    socket.getOutputStream().write(partial[i % partial.length].getBytes(StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                    socket.setSoTimeout(20_000);
                    sockets.add(socket);
                }
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
                List<Future<Boolean>> closed = new ArrayList<>();
                for (Socket socket : sockets) {
                    closed.add(pool.submit(() -> {
                        InputStream in = socket.getInputStream();
                        try {
                            while (in.read() >= 0) {
                                // whatever the server says before it closes
                            }
                            return true;
                        } catch (SocketTimeoutException e) {
                            return false;
                        } catch (IOException e) {
                            return true;
                        }
                    }));
                }
                for (int i = 0; i < closed.size(); i++) {
                    assertTrue(closed.get(i).get(30, TimeUnit.SECONDS), "connection " + i + " (" + (i % partial.length) + ") was closed");
                }
                pool.shutdown();
            } finally {
                for (Socket socket : sockets) {
                    socket.close();
                }
            }
            server.postOk("/v1/completions", completion("x", "max_tokens", 2));
        }
    }

    @Test
    void brokenFramingIsAClientErrorNotAServerError() throws Exception {
        try (TestServer server = TestServer.start()) {
            // Headers cut off, then the client half-closes.
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                socket.getOutputStream().write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Ty"
                        .getBytes(StandardCharsets.US_ASCII));
                socket.shutdownOutput();
                socket.setSoTimeout(10_000);
                String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(response.startsWith("HTTP/1.1 400"), response);
            }
            // A chunk size that is not hexadecimal.
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                socket.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                socket.setSoTimeout(10_000);
                String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(response.startsWith("HTTP/1.1 400"), response);
            }
            // HTTP/1.0: a 4xx that says what to send instead.
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                socket.getOutputStream().write("GET /health HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.setSoTimeout(10_000);
                String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(response.startsWith("HTTP/1.1 400") && response.contains("HTTP/1.1"), response);
            }
            server.postOk("/v1/completions", completion("x", "max_tokens", 2));
        }
    }

    @Test
    void aBodyThatTricklesInIsCutOff() throws Exception {
        try (TestServer server = TestServer.start("--http-read-timeout", "1")) {
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 200\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                long start = System.nanoTime();
                boolean cut = false;
                // One byte every 300 ms: each read comes in time, the body as a whole never does.
                for (int i = 0; i < 100 && !cut; i++) {
                    try {
                        out.write('x');
                        out.flush();
                        Thread.sleep(300);
                    } catch (IOException e) {
                        cut = true;
                    }
                }
                assertTrue(cut, "the connection was closed while the body trickled in");
                assertTrue((System.nanoTime() - start) / 1e9 < 20);
            }
        }
    }

    @Test
    void twoRequestsWithManyChoicesDoNotLockOthersOut() throws Exception {
        try (TestServer server = TestServer.start("--max-seqs", "8", "--kv-cache-memory", "32MiB")) {
            HttpRequest big = server.request("/v1/completions").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(TestServer.json(completion("Once", "n", 4, "max_tokens", 1000,
                            "ignore_eos", true, "stream", true)))).build();
            try (SseStream first = SseStream.open(server.http(), big); SseStream second = SseStream.open(server.http(), big)) {
                first.next();
                second.next();
                JsonNode probe = server.postOk("/v1/chat/completions", chat("Hi", "max_tokens", 4, "temperature", 0));
                assertEquals(1, probe.get("choices").size());
                assertTrue(server.metrics().value("sluice:num_requests_running") >= 2,
                        "the probe finished while both big requests still ran");
            }
        }
    }
}
