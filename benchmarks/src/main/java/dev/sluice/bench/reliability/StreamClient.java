package dev.sluice.bench.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.bench.load.SseReader;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One streaming (SSE) request over a raw socket, read according to a {@link Plan}: to the end, or
 * dropped at a chosen point (before the response head, after the first token, mid-stream), and
 * read at full speed or slowly through a small receive buffer. Never throws.
 */
public final class StreamClient {

    /** Where a client that disconnects does so. */
    public enum Disconnect {
        NONE("reads to the end"),
        BEFORE_HEADERS("before the response head"),
        AFTER_FIRST_TOKEN("after the first token"),
        MID_STREAM("mid-stream");

        private final String label;

        Disconnect(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * @param disconnect     where to drop the connection
     * @param afterChunks    for MID_STREAM: how many content chunks to read first
     * @param delayMillis    for BEFORE_HEADERS: how long after sending to close
     * @param receiveBuffer  the socket's receive buffer in bytes; 0 for the system's default
     * @param readBytes      bytes per read; 0 for a normal buffer
     * @param readPauseMillis pause after each read
     * @param stallAfterChunks stop reading after this many chunks (-1: never) ...
     * @param stallMillis    ... for this long, then read on
     */
    public record Plan(Disconnect disconnect, int afterChunks, long delayMillis, int receiveBuffer, int readBytes,
                       long readPauseMillis, int stallAfterChunks, long stallMillis) {

        public static Plan full() {
            return new Plan(Disconnect.NONE, 0, 0, 0, 0, 0, -1, 0);
        }

        public static Plan drop(Disconnect where, int afterChunks, long delayMillis) {
            return new Plan(where, afterChunks, delayMillis, 0, 0, 0, -1, 0);
        }
    }

    /**
     * @param status        HTTP status, -1 when no response head came
     * @param chunks        content-carrying events read
     * @param done          {@code data: [DONE]} arrived
     * @param finishReasons finish reasons seen, one per choice that finished
     * @param error         what went wrong, null when nothing did (a planned disconnect is not an error)
     */
    public record Result(int status, int chunks, boolean done, List<String> finishReasons, String error,
                         boolean disconnected, double ttftMillis, double e2eMillis) {

        /** Read to the end: 200, content, a finish reason and [DONE]. */
        public boolean complete() {
            return status == 200 && error == null && done && !finishReasons.isEmpty();
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private StreamClient() {
    }

    /** Hooks into a stream in flight: the socket once connected (to close it from outside), the first token. */
    public interface Listener {
        Listener NONE = new Listener() {
        };

        default void connected(Socket socket) {
        }

        default void firstToken() {
        }
    }

    public static Result stream(InetSocketAddress address, String path, String json, Plan plan, Duration timeout,
                                String requestId) {
        return stream(address, path, json, plan, timeout, requestId, Listener.NONE);
    }

    public static Result stream(InetSocketAddress address, String path, String json, Plan plan, Duration timeout,
                                String requestId, Listener listener) {
        long start = System.nanoTime();
        int status = -1;
        int chunks = 0;
        boolean done = false;
        List<String> finishReasons = new ArrayList<>();
        double ttft = -1;
        try (Socket socket = new Socket()) {
            if (plan.receiveBuffer() > 0) {
                socket.setReceiveBufferSize(plan.receiveBuffer());
            }
            socket.connect(address, 10_000);
            listener.connected(socket);
            socket.setSoTimeout((int) timeout.toMillis());
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            byte[] request = HttpWire.post(path, "application/json", body, "Accept: text/event-stream",
                    "X-Request-Id: " + requestId);
            OutputStream out = socket.getOutputStream();
            out.write(request);
            out.flush();
            if (plan.disconnect() == Disconnect.BEFORE_HEADERS) {
                Thread.sleep(plan.delayMillis());
                return new Result(-1, 0, false, finishReasons, null, true, -1, millis(start));
            }
            InputStream raw = socket.getInputStream();
            InputStream in = plan.readBytes() > 0 || plan.readPauseMillis() > 0
                    ? new BufferedInputStream(new SlowInputStream(raw, plan.readBytes(), plan.readPauseMillis()),
                    plan.readBytes() > 0 ? plan.readBytes() : 8192) : new BufferedInputStream(raw);
            HttpWire.Head head = HttpWire.readHead(in);
            status = head.status();
            InputStream stream = HttpWire.body(head, in, false);
            if (status != 200) {
                String text = new String(stream.readNBytes(4096), StandardCharsets.UTF_8);
                return new Result(status, 0, false, finishReasons, "HTTP " + status + ": " + HttpWire.abbreviate(text.strip(), 160),
                        false, -1, millis(start));
            }
            SseReader events = new SseReader(stream);
            SseReader.Event event;
            while ((event = events.next()) != null) {
                if (event.error()) {
                    return new Result(status, chunks, done, finishReasons, "error event: " + HttpWire.abbreviate(event.data(), 160),
                            false, ttft, millis(start));
                }
                if (event.data().equals("[DONE]")) {
                    done = true;
                    continue;
                }
                JsonNode chunk = JSON.readTree(event.data());
                if (chunk.hasNonNull("error")) {
                    return new Result(status, chunks, done, finishReasons, "error in stream: "
                            + HttpWire.abbreviate(chunk.get("error").toString(), 160), false, ttft, millis(start));
                }
                boolean content = false;
                for (JsonNode choice : chunk.path("choices")) {
                    String text = choice.has("delta") ? choice.path("delta").path("content").asText("") : choice.path("text").asText("");
                    content |= !text.isEmpty();
                    if (choice.hasNonNull("finish_reason")) {
                        finishReasons.add(choice.get("finish_reason").asText());
                    }
                }
                if (content) {
                    chunks++;
                    if (ttft < 0) {
                        ttft = millis(start);
                        listener.firstToken();
                    }
                }
                if (plan.disconnect() == Disconnect.AFTER_FIRST_TOKEN && chunks >= 1
                        || plan.disconnect() == Disconnect.MID_STREAM && chunks >= plan.afterChunks()) {
                    return new Result(status, chunks, false, finishReasons, null, true, ttft, millis(start));
                }
                if (chunks == plan.stallAfterChunks()) {
                    Thread.sleep(plan.stallMillis());
                }
            }
            String error = done ? null : "stream ended without [DONE] after " + chunks + " chunk(s)";
            if (plan.disconnect() != Disconnect.NONE && done) {
                // The stream was shorter than where the client meant to drop it: it simply completed.
                return new Result(status, chunks, true, finishReasons, null, false, ttft, millis(start));
            }
            return new Result(status, chunks, done, finishReasons, error, false, ttft, millis(start));
        } catch (SocketTimeoutException e) {
            return new Result(status, chunks, done, finishReasons, "timeout after " + timeout.toSeconds() + " s", false, ttft, millis(start));
        } catch (EOFException e) {
            return new Result(status, chunks, done, finishReasons, "connection closed: " + e.getMessage(), false, ttft, millis(start));
        } catch (IOException e) {
            return new Result(status, chunks, done, finishReasons, e.getClass().getSimpleName() + ": " + e.getMessage(), false, ttft,
                    millis(start));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(status, chunks, done, finishReasons, "interrupted", false, ttft, millis(start));
        }
    }

    private static double millis(long start) {
        return (System.nanoTime() - start) / 1e6;
    }

    /** Reads at most {@code bytes} per call and pauses after each: a slow consumer. */
    private static final class SlowInputStream extends InputStream {
        private final InputStream in;
        private final int bytes;
        private final long pauseMillis;

        SlowInputStream(InputStream in, int bytes, long pauseMillis) {
            this.in = in;
            this.bytes = bytes <= 0 ? 8192 : bytes;
            this.pauseMillis = pauseMillis;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) <= 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, Math.min(len, bytes));
            if (pauseMillis > 0 && n > 0) {
                try {
                    Thread.sleep(pauseMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted");
                }
            }
            return n;
        }
    }
}
