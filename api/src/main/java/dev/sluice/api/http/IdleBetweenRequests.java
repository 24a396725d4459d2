package dev.sluice.api.http;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.common.task.InterruptableTask;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Semaphore;

/**
 * Helidon's HTTP/1 connections, with an idle time that does not grow while a request runs.
 *
 * <p>Helidon's idle-connection reaper (4.5) measures a connection's idle time from the start of
 * its last request and, past the timeout, marks the connection to close once that request ends.
 * A completion that streams for longer than {@code --http-idle-timeout} therefore lost its
 * connection right after a response that had promised keep-alive ({@code Keep-Alive: timeout=N}),
 * and a client that sent its next request on it before the close arrived got no bytes back (two
 * of 256 requests of a 64-client benchmark). Here a connection with a request in progress (the
 * {@link ConnectionGuard} watches it from its first line until its response is sent) reports no
 * idle time; between requests, and before the first, Helidon's own measure applies.
 */
public final class IdleBetweenRequests implements ServerConnectionSelector {

    private final ServerConnectionSelector http1;
    private final ConnectionGuard guard;

    /** @param http1 Helidon's HTTP/1 selector, whose connections this one wraps */
    public IdleBetweenRequests(ServerConnectionSelector http1, ConnectionGuard guard) {
        this.http1 = http1;
        this.guard = guard;
    }

    @Override
    public int bytesToIdentifyConnection() {
        return http1.bytesToIdentifyConnection();
    }

    @Override
    public Support supports(BufferData data) {
        return http1.supports(data);
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        return http1.supportedApplicationProtocols();
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        return new Connection(http1.connection(ctx), ctx.childSocketId());
    }

    /** Delegates everything but {@link #idleTime()}; interruptible exactly when Helidon's is (shutdown asks). */
    private final class Connection implements ServerConnection, InterruptableTask<Void> {
        private final ServerConnection delegate;
        private final String socketId;

        Connection(ServerConnection delegate, String socketId) {
            this.delegate = delegate;
            this.socketId = socketId;
        }

        @Override
        public void handle(Semaphore requestSemaphore) throws InterruptedException {
            delegate.handle(requestSemaphore);
        }

        @Override
        public void handle(Limit limit) throws InterruptedException {
            delegate.handle(limit);
        }

        @Override
        public Duration idleTime() {
            return guard.inRequest(socketId) ? Duration.ZERO : delegate.idleTime();
        }

        @Override
        public void close(boolean interrupt) {
            delegate.close(interrupt);
        }

        @Override
        public boolean canInterrupt() {
            return delegate instanceof InterruptableTask<?> task && task.canInterrupt();
        }
    }
}
