package dev.sluice.api.http;

import io.helidon.webserver.http.ServerRequest;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Server-Sent Events as OpenAI streams them: {@code data: <json>\n\n} per event, flushed at once
 * so each token reaches the client as soon as it is sampled, and {@code data: [DONE]\n\n} last.
 * A failed write means the client went away: {@link ClientGoneException}. Every write is watched
 * by the {@link ConnectionGuard}: one blocked for longer than its write timeout (a client that
 * stopped reading) has its connection closed, which fails the write.
 */
public final class SseWriter {

    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEEP_ALIVE = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);

    /** The client closed the connection. */
    public static final class ClientGoneException extends RuntimeException {
        ClientGoneException(IOException cause) {
            super("client disconnected", cause);
        }
    }

    private final OutputStream out;
    private final ConnectionGuard guard;
    private final ServerRequest req;

    public SseWriter(OutputStream out, ConnectionGuard guard, ServerRequest req) {
        this.out = out;
        this.guard = guard;
        this.req = req;
    }

    public void event(byte[] json) {
        write(DATA, json, END);
    }

    /** A named event ({@code event: <name>} before its data), as the Responses API streams them. */
    public void event(String name, byte[] json) {
        write(("event: " + name + "\n").getBytes(StandardCharsets.US_ASCII), DATA, json, END);
    }

    /** An SSE comment: keeps proxies from timing out and finds out early if the client is gone. */
    public void keepAlive() {
        write(KEEP_ALIVE);
    }

    public void done() {
        write(DONE);
    }

    /** Writes {@code parts} and flushes them as one event, within one watched write. */
    private void write(byte[]... parts) {
        guard.writing(req);
        try {
            for (byte[] part : parts) {
                out.write(part);
            }
            out.flush();
        } catch (IOException e) {
            throw new ClientGoneException(e);
        } catch (UncheckedIOException e) {
            throw new ClientGoneException(e.getCause());
        } finally {
            guard.done(req);
        }
    }
}
