package dev.sluice.api.http;

import dev.sluice.api.openai.Json;
import io.helidon.common.buffers.DataReader;
import io.helidon.http.HeaderNames;
import io.helidon.http.RequestException;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;

import java.io.IOException;
import java.io.InputStream;
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
            // The body is not read, so nothing else can be read from this connection. (Helidon's
            // own payload limit, which would close it, is the larger upload limit, --max-file-bytes.)
            guard.closeAfterResponse(req, null);
            throw tooLarge(maxBytes).closingConnection();
        }
        // Not try-with-resources: closing a half-read stream reads the rest of the body, which a
        // broken or stalled client may never send. A body read to its end is closed; otherwise
        // the error response closes the connection instead.
        InputStream in = req.content().inputStream();
        boolean complete = false;
        try {
            byte[] buffer = new byte[(int) Math.min(Math.max(declared, 8192), maxBytes + 1)];
            int length = 0;
            for (int n; ; ) {
                guard.reading(req, declared);
                n = in.read(buffer, length, buffer.length - length);
                if (n <= 0) {
                    break;
                }
                length += n;
                if (length > maxBytes) {
                    guard.closeAfterResponse(req, in);
                    throw tooLarge(maxBytes).closingConnection();
                }
                if (length == buffer.length) {
                    buffer = Arrays.copyOf(buffer, (int) Math.min((long) buffer.length * 2, maxBytes + 1));
                }
            }
            complete = true;
            return Arrays.copyOf(buffer, length);
        } catch (IOException e) {
            throw unreadable("the request body could not be read");
        } catch (DataReader.InsufficientDataAvailableException e) {
            // The connection ended mid-body: the client left, or the guard closed a stalled upload.
            throw unreadable("the request body ended before its declared length");
        } catch (ApiException e) {
            throw e;
        } catch (RequestException e) {
            // Helidon's own payload limit (ours + 1 KiB), met while reading a chunked body.
            if (e.status().code() == 413) {
                throw tooLarge(maxBytes).closingConnection();
            }
            throw unreadable(e.safeMessage() ? e.getMessage() : "the request body could not be read");
        } catch (RuntimeException e) {
            // The body's framing is broken (a chunk size that is not hex, …): the client's error.
            throw unreadable("the request body is malformed: it could not be read as HTTP/1.1 framing");
        } finally {
            guard.done(req);
            if (complete) {
                try {
                    in.close();
                } catch (IOException | RuntimeException e) {
                    // nothing left to read: ignore
                }
            }
        }
    }

    /** 400, and the connection closes: the rest of what the client sent cannot be trusted as a request. */
    private static ApiException unreadable(String why) {
        return ApiException.invalid(null, "Could not read the request: " + why + ".").closingConnection();
    }

    static ApiException tooLarge(long maxBytes) {
        return new ApiException(Status.REQUEST_ENTITY_TOO_LARGE_413, "invalid_request_error",
                "The request body is larger than the server's limit of " + maxBytes + " bytes.", null, "request_too_large");
    }
}
