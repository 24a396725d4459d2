package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A streaming response read as raw bytes, event by event as they arrive: each event is what lies
 * between two {@code \n\n} separators, with the time its last byte was read. Keeps every byte
 * read, so tests can check the exact wire format.
 */
public final class SseStream implements AutoCloseable {

    /** One event: its text without the separator, and when it was complete. */
    public record Event(String text, long arrivalNanos) {

        /** The payload after {@code data: }; fails if the event is not exactly one data line. */
        public String data() {
            assertTrue(text.startsWith("data: "), () -> "not a data event: '" + text + "'");
            assertFalse(text.substring(6).contains("\n"), () -> "multi-line event: '" + text + "'");
            return text.substring(6);
        }

        public JsonNode json() {
            return TestServer.parse(data());
        }

        public boolean isDone() {
            return text.equals("data: [DONE]");
        }
    }

    private final HttpResponse<InputStream> response;
    private final InputStream in;
    private final ByteArrayOutputStream raw = new ByteArrayOutputStream();
    private final long startNanos;
    private byte[] pending = new byte[0];
    private boolean eof;

    private SseStream(HttpResponse<InputStream> response, long startNanos) {
        this.response = response;
        this.in = response.body();
        this.startNanos = startNanos;
    }

    public static SseStream open(HttpClient http, HttpRequest request) {
        long start = System.nanoTime();
        try {
            return new SseStream(http.send(request, HttpResponse.BodyHandlers.ofInputStream()), start);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<InputStream> response() {
        return response;
    }

    public long startNanos() {
        return startNanos;
    }

    /** The next event, or null at the end of the body. */
    public Event next() {
        while (true) {
            int end = indexOf(pending, "\n\n".getBytes(StandardCharsets.US_ASCII));
            if (end >= 0) {
                String text = new String(pending, 0, end, StandardCharsets.UTF_8);
                pending = Arrays.copyOfRange(pending, end + 2, pending.length);
                return new Event(text, System.nanoTime());
            }
            if (eof) {
                return null;
            }
            byte[] buffer = new byte[8192];
            int n;
            try {
                n = in.read(buffer);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (n < 0) {
                eof = true;
                continue;
            }
            raw.write(buffer, 0, n);
            byte[] joined = Arrays.copyOf(pending, pending.length + n);
            System.arraycopy(buffer, 0, joined, pending.length, n);
            pending = joined;
        }
    }

    /** Reads to the end; returns every event (the ones already returned by {@link #next} excluded). */
    public List<Event> readAll() {
        List<Event> events = new ArrayList<>();
        for (Event e; (e = next()) != null; ) {
            events.add(e);
        }
        assertEquals(0, pending.length, () -> "bytes after the last separator: '"
                + new String(pending, StandardCharsets.UTF_8) + "'");
        return events;
    }

    /** Every byte read so far. */
    public byte[] raw() {
        return raw.toByteArray();
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Closes the connection, at once if the body is not fully read. */
    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
