package dev.sluice.api.http;

import dev.sluice.api.openai.Json;
import io.helidon.common.buffers.DataReader;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;

/** Request bodies, read with a size limit: a body over it is a 413, not an out-of-memory. */
public final class Bodies {

    private Bodies() {
    }

    public static Json json(ServerRequest req, long maxBytes, ConnectionGuard guard) {
        return Json.parse(read(req, maxBytes, guard));
    }

    /**
     * Reads the whole body. Each wait for more of it is watched by {@code guard}: a client that
     * stops sending midway has its connection closed after the read timeout.
     */
    public static byte[] read(ServerRequest req, long maxBytes, ConnectionGuard guard) {
        long declared = req.headers().first(HeaderNames.CONTENT_LENGTH).map(Long::parseLong).orElse(-1L);
        if (declared > maxBytes) {
            throw tooLarge(maxBytes);
        }
        try (InputStream in = req.content().inputStream()) {
            byte[] buffer = new byte[(int) Math.min(Math.max(declared, 8192), maxBytes + 1)];
            int length = 0;
            for (int n; ; ) {
                guard.reading(req);
                n = in.read(buffer, length, buffer.length - length);
                if (n <= 0) {
                    break;
                }
                length += n;
                if (length > maxBytes) {
                    throw tooLarge(maxBytes);
                }
                if (length == buffer.length) {
                    buffer = Arrays.copyOf(buffer, (int) Math.min((long) buffer.length * 2, maxBytes + 1));
                }
            }
            return Arrays.copyOf(buffer, length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (DataReader.InsufficientDataAvailableException e) {
            // The connection ended mid-body: the client left, or the guard closed a stalled upload.
            throw new UncheckedIOException(new IOException("the request body ended before its declared length", e));
        } finally {
            guard.done(req);
        }
    }

    static ApiException tooLarge(long maxBytes) {
        return new ApiException(Status.REQUEST_ENTITY_TOO_LARGE_413, "invalid_request_error",
                "The request body is larger than the server's limit of " + maxBytes + " bytes.", null, "request_too_large");
    }
}
