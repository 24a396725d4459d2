package dev.sluice.bench.reliability;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends one request's exact bytes over a fresh socket and reads what comes back, never throwing:
 * a refused connection, a close, a reset or silence until the deadline are outcomes like a status.
 * The bytes go out on their own thread, so a server that answers early (413) and stops reading
 * cannot block the exchange.
 */
public final class RawExchange {

    /** How an exchange ended. */
    public enum Ending {
        /** A complete response (status, headers and its whole body). */
        RESPONSE,
        /** The server closed or reset the connection without sending a byte. */
        CLOSED,
        /** Bytes came back, but not a complete HTTP response. */
        BROKEN_RESPONSE,
        /** Nothing complete before the deadline, the connection still open. */
        TIMEOUT,
        /** No connection at all. */
        CONNECT_FAILED
    }

    /**
     * @param body        the first {@code maxKept} bytes of the body
     * @param bodyBytes   the body's whole length
     * @param headRequest the request was a HEAD, whose response has no body to check
     */
    public record Result(Ending ending, int status, HttpWire.Head head, byte[] body, long bodyBytes, long sentBytes,
                         double millis, String note, boolean headRequest) {
    }

    public static final int MAX_KEPT = 256 * 1024;

    private RawExchange() {
    }

    public static Result exchange(InetSocketAddress address, byte[] request, FuzzCase.Send send, Duration deadline) {
        boolean headRequest = request.length >= 5 && request[0] == 'H' && request[1] == 'E' && request[2] == 'A'
                && request[3] == 'D' && request[4] == ' ';
        long start = System.nanoTime();
        long end = start + deadline.toNanos();
        AtomicLong sent = new AtomicLong();
        try (Socket socket = new Socket()) {
            try {
                socket.connect(address, (int) Math.min(10_000, deadline.toMillis()));
            } catch (IOException e) {
                return new Result(Ending.CONNECT_FAILED, -1, null, new byte[0], 0, 0, millis(start), e.toString(), headRequest);
            }
            Thread writer = Thread.ofVirtual().start(() -> write(socket, request, send, sent, end));
            try {
                return read(socket, headRequest, sent, start, end);
            } finally {
                writer.interrupt();
            }
        } catch (IOException e) {
            return new Result(Ending.CLOSED, -1, null, new byte[0], 0, sent.get(), millis(start), e.toString(), headRequest);
        }
    }

    private static void write(Socket socket, byte[] request, FuzzCase.Send send, AtomicLong sent, long end) {
        try {
            OutputStream out = socket.getOutputStream();
            int step = send.slow() ? send.bytesPerTick() : 64 * 1024;
            for (int at = 0; at < request.length; at += step) {
                int n = Math.min(step, request.length - at);
                out.write(request, at, n);
                out.flush();
                sent.addAndGet(n);
                if (send.slow()) {
                    if (System.nanoTime() > end) {
                        return;
                    }
                    Thread.sleep(send.tickMillis());
                }
            }
            if (send.halfClose()) {
                socket.shutdownOutput();
            }
        } catch (IOException | InterruptedException e) {
            // the server closed, or the exchange is over: the reader reports what happened
        }
    }

    private static Result read(Socket socket, boolean headRequest, AtomicLong sent, long start, long end) throws IOException {
        InputStream in = new DeadlineInputStream(new BufferedInputStream(socket.getInputStream()), socket, end);
        HttpWire.Head head;
        try {
            head = HttpWire.readHead(in);
        } catch (SocketTimeoutException e) {
            return new Result(Ending.TIMEOUT, -1, null, new byte[0], 0, sent.get(), millis(start), "no response", headRequest);
        } catch (EOFException | SocketException e) {
            return new Result(Ending.CLOSED, -1, null, new byte[0], 0, sent.get(), millis(start), e.getMessage(), headRequest);
        } catch (HttpWire.MalformedResponseException e) {
            return new Result(Ending.BROKEN_RESPONSE, -1, null, new byte[0], 0, sent.get(), millis(start), e.getMessage(), headRequest);
        }
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        long total = 0;
        try (InputStream body = HttpWire.body(head, in, headRequest)) {
            byte[] buffer = new byte[16 * 1024];
            int n;
            while ((n = body.read(buffer)) > 0) {
                if (kept.size() < MAX_KEPT) {
                    kept.write(buffer, 0, Math.min(n, MAX_KEPT - kept.size()));
                }
                total += n;
            }
        } catch (SocketTimeoutException e) {
            return new Result(Ending.TIMEOUT, head.status(), head, kept.toByteArray(), total, sent.get(), millis(start),
                    "body unfinished at the deadline", headRequest);
        } catch (IOException e) {
            return new Result(Ending.BROKEN_RESPONSE, head.status(), head, kept.toByteArray(), total, sent.get(),
                    millis(start), "body cut off: " + e.getMessage(), headRequest);
        }
        return new Result(Ending.RESPONSE, head.status(), head, kept.toByteArray(), total, sent.get(), millis(start), "", headRequest);
    }

    private static double millis(long start) {
        return (System.nanoTime() - start) / 1e6;
    }

    /** Turns the overall deadline into per-read socket timeouts. */
    private static final class DeadlineInputStream extends InputStream {
        private final InputStream in;
        private final Socket socket;
        private final long end;

        DeadlineInputStream(InputStream in, Socket socket, long end) {
            this.in = in;
            this.socket = socket;
            this.end = end;
        }

        private void arm() throws IOException {
            long left = (end - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new SocketTimeoutException("deadline");
            }
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, left)));
        }

        @Override
        public int read() throws IOException {
            arm();
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            arm();
            return in.read(b, off, len);
        }
    }
}
