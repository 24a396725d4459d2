package dev.sluice.api.http;

import io.helidon.common.socket.HelidonSocket;
import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http1.Http1ConnectionListener;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a slow or vanished client from holding the server: watches every connection's current
 * request and closes the connection when
 * <ul>
 *   <li>its headers or body have not made progress for the read timeout (a client that started a
 *       request and stopped sending: Helidon itself waits forever), or</li>
 *   <li>a write to it has been blocked for the write timeout (a streaming client that stopped
 *       reading: the handler would otherwise stay blocked in the write);</li>
 * </ul>
 * and tells a running request when its client has gone away although nothing is being written to
 * it (a non-streaming request), by polling the kernel's TCP table once a second
 * ({@link TcpConnections}), as llama-server polls its sockets.
 *
 * <p>Helidon hands the connection ({@link ConnectionContext}) to an HTTP/1 receive listener at
 * each request's first line; that is where a request starts being watched. Handlers find it again
 * by {@link ServerRequest#socketId()}, and the routing filter stops watching when the request ends.
 * One daemon thread does the checks.
 */
public final class ConnectionGuard implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ConnectionGuard.class.getName());
    private static final long PERIOD_MILLIS = 250;
    private static final long DISCONNECT_POLL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long CLOSE_AFTER_RESPONSE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final String CLOSING = "its error response to be sent";
    /** After an error response, the unread rest of a body is read and thrown away for at most this long in all, */
    private static final long DISCARD_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** waiting at most this long for each next bytes, */
    private static final long DISCARD_IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** up to this many bytes. */
    private static final long DISCARD_MAX_BYTES = 64L << 20;

    /** A body may take the read timeout plus this long per byte in all: 100 KiB/s, a slow link's pace. */
    private static final long BODY_NANOS_PER_BYTE = TimeUnit.SECONDS.toNanos(1) / (100 * 1024);

    private final long readTimeoutNanos;
    private final long writeTimeoutNanos;
    private final Map<String, Watch> watches = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean closed;
    private long lastDisconnectPoll;

    /** One request on one connection. */
    public static final class Watch {
        private final HelidonSocket socket;
        private final SocketAddress local;
        private final SocketAddress remote;
        /** When the current read or write must have made progress by; 0 when none is under way. */
        private volatile long deadlineNanos;
        /** When the whole body must have arrived by (a trickle of bytes cannot hold a connection forever); 0 before the body. */
        private volatile long bodyDeadlineNanos;
        private volatile String waitingFor;
        private volatile Runnable onClientGone;
        private volatile boolean closeAfterResponse;
        /** Read the rest of the body before the close (see {@link #closeAfterResponse(ServerRequest, InputStream)}). */
        private boolean discardBody;
        /** The body's stream when the handler had opened it; null to open it then. */
        private InputStream body;
        private boolean seenEstablished;

        private Watch(ConnectionContext ctx) {
            this.socket = ctx.serverSocket();
            this.local = ctx.localPeer().address();
            this.remote = ctx.remotePeer().address();
        }

        private void arm(long timeoutNanos, String what) {
            waitingFor = what;
            deadlineNanos = System.nanoTime() + timeoutNanos;
        }

        private void disarm() {
            deadlineNanos = 0;
        }
    }

    /**
     * @param readTimeout  longest wait for the next bytes of a request's headers or body
     * @param writeTimeout longest a write to a client may stay blocked
     */
    public ConnectionGuard(Duration readTimeout, Duration writeTimeout) {
        this.readTimeoutNanos = readTimeout.toNanos();
        this.writeTimeoutNanos = writeTimeout.toNanos();
        this.thread = Thread.ofPlatform().daemon().name("sluice-connection-guard").start(this::run);
    }

    /** The listener to add to Helidon's HTTP/1 configuration. */
    public Http1ConnectionListener listener() {
        return new Http1ConnectionListener() {
            @Override
            public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
                Watch watch = new Watch(ctx);
                watch.arm(readTimeoutNanos, "the request headers");
                watches.put(ctx.childSocketId(), watch);
            }

            @Override
            public void headers(ConnectionContext ctx, Headers headers) {
                Watch watch = watches.get(ctx.childSocketId());
                if (watch != null) {
                    watch.disarm();
                }
            }
        };
    }

    /**
     * Whether a request is in progress on the connection (from its first line until its response
     * is sent): then the connection is not idle ({@link IdleBetweenRequests}).
     */
    public boolean inRequest(String socketId) {
        return watches.containsKey(socketId);
    }

    /** The request on this connection is over (called by the routing filter). */
    public void ended(ServerRequest req) {
        Watch watch = watches.get(req.socketId());
        if (watch != null && watch.closeAfterResponse) {
            // The routing's error handler has written the response by now (it runs inside the
            // filter chain).
            if (watch.discardBody) {
                discardRest(watch, req);
                watches.remove(req.socketId());
                close(watch);
            } else {
                // Close in a moment, once the client has had time to read it.
                watch.arm(CLOSE_AFTER_RESPONSE_NANOS, CLOSING);
            }
            return;
        }
        watches.remove(req.socketId());
    }

    /**
     * Once this request's response is sent, close the connection: the server ended its stream
     * early (a client that stopped reading is not waited for again). Helidon keeps a connection
     * open after a response that says {@code Connection: close}, so the guard closes it.
     */
    public void closeAfterResponse(ServerRequest req) {
        Watch watch = watches.get(req.socketId());
        if (watch != null) {
            watch.closeAfterResponse = true;
        }
    }

    /**
     * Once this request's error response is sent (its body is over a limit and will not be
     * used: Helidon would read the rest of it as the next request), reads what is left of its body (from
     * {@code body}, the body's stream if the handler opened it, else null), throws it away and
     * closes the connection: a lingering close, as web servers do after an error. Closing a
     * socket with unread bytes makes the kernel answer with a reset, and a client that is still
     * sending its body then loses the response it has not read yet: "connection reset" instead
     * of the 413. At most 64 MiB for 10 s, and 1 s for each next bytes; a client that waits for
     * {@code 100 Continue} before it sends its body has sent nothing, so nothing is read.
     */
    public void closeAfterResponse(ServerRequest req, InputStream body) {
        Watch watch = watches.get(req.socketId());
        if (watch != null) {
            watch.body = body;
            watch.discardBody = body != null || !req.headers().first(HeaderNames.EXPECT)
                    .map(v -> v.equalsIgnoreCase("100-continue")).orElse(false);
            watch.closeAfterResponse = true;
        }
    }

    /** Runs on the request's thread after its response; the guard's thread closes the socket on a stall. */
    private void discardRest(Watch watch, ServerRequest req) {
        long end = System.nanoTime() + DISCARD_NANOS;
        try {
            InputStream in = watch.body != null ? watch.body : req.content().inputStream();
            byte[] scratch = new byte[64 * 1024];
            for (long total = 0; total <= DISCARD_MAX_BYTES && end - System.nanoTime() > 0; ) {
                watch.arm(Math.min(DISCARD_IDLE_NANOS, Math.max(0, end - System.nanoTime())), CLOSING);
                int n = in.read(scratch);
                if (n < 0) {
                    return;
                }
                total += n;
            }
        } catch (IOException | RuntimeException e) {
            // the client left, or the guard closed the socket: nothing more to read
        } finally {
            watch.disarm();
        }
    }

    /**
     * The handler is about to wait for more of the body, whose declared length is
     * {@code declaredBytes} (-1 if unknown): the next bytes must come within the read timeout, and
     * the whole body within the read timeout plus its length at 100 KiB/s.
     */
    public void reading(ServerRequest req, long declaredBytes) {
        Watch watch = watches.get(req.socketId());
        if (watch != null) {
            if (watch.bodyDeadlineNanos == 0) {
                watch.bodyDeadlineNanos = System.nanoTime() + readTimeoutNanos
                        + Math.max(0, declaredBytes) * BODY_NANOS_PER_BYTE;
            }
            watch.arm(readTimeoutNanos, "the request body");
            if (watch.deadlineNanos - watch.bodyDeadlineNanos > 0) {
                watch.deadlineNanos = watch.bodyDeadlineNanos;
            }
        }
    }

    /** The handler is about to write to the client: the write must finish within the write timeout. */
    public void writing(ServerRequest req) {
        Watch watch = watches.get(req.socketId());
        if (watch != null) {
            watch.arm(writeTimeoutNanos, "the client to read the response");
        }
    }

    /** The read or write under way finished. */
    public void done(ServerRequest req) {
        Watch watch = watches.get(req.socketId());
        if (watch != null) {
            watch.disarm();
        }
    }

    /**
     * Runs {@code onGone} (once, on the guard's thread) if the client of {@code req} closes its
     * connection while the request runs. Where the kernel's table is not available, never.
     */
    public void onClientGone(ServerRequest req, Runnable onGone) {
        Watch watch = watches.get(req.socketId());
        if (watch != null) {
            watch.onClientGone = onGone;
        }
    }

    private void run() {
        while (!closed) {
            try {
                Thread.sleep(PERIOD_MILLIS);
                check(System.nanoTime());
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "connection guard check failed", e);
            }
        }
    }

    private void check(long now) {
        boolean pollDisconnects = false;
        for (Map.Entry<String, Watch> e : watches.entrySet()) {
            Watch watch = e.getValue();
            long deadline = watch.deadlineNanos;
            if (deadline != 0 && now - deadline > 0 && watch.waitingFor == CLOSING) {
                watches.remove(e.getKey());
                close(watch);
            } else if (deadline != 0 && now - deadline > 0) {
                LOG.log(System.Logger.Level.INFO, "closing the connection from " + watch.remote + ": waited "
                        + TimeUnit.NANOSECONDS.toSeconds(now - deadline + (watch.waitingFor.startsWith("the client")
                        ? writeTimeoutNanos : readTimeoutNanos)) + " s for " + watch.waitingFor);
                watches.remove(e.getKey());
                close(watch);
            }
            pollDisconnects |= watch.onClientGone != null;
        }
        if (pollDisconnects && now - lastDisconnectPoll >= DISCONNECT_POLL_NANOS) {
            lastDisconnectPoll = now;
            TcpConnections table = TcpConnections.read();
            for (Watch watch : watches.values()) {
                Runnable onGone = watch.onClientGone;
                if (onGone == null || !(watch.local instanceof InetSocketAddress local)
                        || !(watch.remote instanceof InetSocketAddress remote)) {
                    continue;
                }
                int state = table.state(local, remote);
                if (state == TcpConnections.ESTABLISHED) {
                    watch.seenEstablished = true;
                } else if (TcpConnections.peerClosed(state) || (state == -1 && watch.seenEstablished)) {
                    // A connection missing from the table counts as gone only if it was seen open
                    // before: a table that cannot be read or parsed is not a disconnect.
                    watch.onClientGone = null;
                    onGone.run();
                }
            }
        }
    }

    private static void close(Watch watch) {
        try {
            watch.socket.close();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing a connection failed: " + e);
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
