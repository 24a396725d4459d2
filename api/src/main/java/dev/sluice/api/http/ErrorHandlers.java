package dev.sluice.api.http;

import dev.sluice.api.openai.Json;
import dev.sluice.api.openai.Responses;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.NotFoundException;
import io.helidon.http.RequestException;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerResponse;

import java.io.UncheckedIOException;

/**
 * Every failure reaches the client as OpenAI's error object with a fitting status; unexpected
 * ones are logged with their stack trace here and reported to the client without it.
 */
public final class ErrorHandlers {

    private static final System.Logger LOG = System.getLogger("sluice.api");

    private ErrorHandlers() {
    }

    public static void register(HttpRouting.Builder routing) {
        routing.error(ApiException.class, (req, res, e) -> {
                    if (e.closesConnection()) {
                        res.header(HeaderNames.CONNECTION, "close");
                    }
                    write(res, e.status(), e.type(), e.getMessage(), e.param(), e.code());
                })
                .error(RequestException.class, (req, res, e) -> write(res, e.status(), "invalid_request_error",
                        e.getMessage(), null, null))
                .error(NotFoundException.class, (req, res, e) -> write(res, Status.NOT_FOUND_404, "invalid_request_error",
                        "Invalid URL (" + req.prologue().method().text() + " " + req.path().path() + ")", null, null))
                .error(HttpException.class, (req, res, e) -> {
                    boolean server = e.status().code() >= 500;
                    if (server) {
                        LOG.log(System.Logger.Level.ERROR, "error handling " + req.prologue().method().text() + " "
                                + req.path().path(), e);
                    }
                    write(res, e.status(), server ? "server_error" : "invalid_request_error", server
                            ? "The server had an error while processing your request." : e.getMessage(), null, null);
                })
                .error(UncheckedIOException.class, (req, res, e) -> {
                    // Mostly a client gone while we read its body: nothing to answer.
                    LOG.log(System.Logger.Level.DEBUG, "I/O error on " + req.path().path() + ": " + e.getMessage());
                    res.header(HeaderNames.CONNECTION, "close");
                    write(res, Status.BAD_REQUEST_400, "invalid_request_error", "Could not read the request.", null, null);
                })
                .error(Throwable.class, (req, res, e) -> {
                    LOG.log(System.Logger.Level.ERROR, "unexpected error handling " + req.prologue().method().text() + " "
                            + req.path().path(), e);
                    write(res, Status.INTERNAL_SERVER_ERROR_500, "server_error",
                            "The server had an error while processing your request.", null, null);
                });
    }

    /**
     * Errors Helidon answers itself, before routing (a body whose Content-Length is over the
     * payload limit, a malformed request line or header): the same OpenAI error body as the rest,
     * instead of Helidon's empty one.
     */
    public static DirectHandlers direct(long maxBodyBytes) {
        DirectHandler handler = new DirectHandler() {
            @Override
            public TransportResponse handle(TransportRequest request, EventType event, Status status,
                                            ServerResponseHeaders headers, String message) {
                ApiException e;
                if (event == EventType.PAYLOAD_TOO_LARGE || status.code() == 413) {
                    e = Bodies.tooLarge(maxBodyBytes);
                } else if (status.code() == 505) {
                    // HTTP/1.0 (or 9.9): the same major version or nonsense, so not RFC 9110's 505;
                    // the client sent what this server does not speak.
                    e = new ApiException(Status.BAD_REQUEST_400, "invalid_request_error",
                            "This server speaks HTTP/1.1; send the request as HTTP/1.1.", null, null);
                } else if (event == EventType.INTERNAL_ERROR) {
                    // Before routing, "internal" errors are reading the request: headers cut off
                    // by the client (a half-close), framing Helidon cannot parse. Handler errors
                    // never get here (the routing's error handlers answer them). The client's error.
                    LOG.log(System.Logger.Level.DEBUG, "could not read a request: " + message);
                    e = new ApiException(Status.BAD_REQUEST_400, "invalid_request_error",
                            "The request could not be read: it ended early or is not valid HTTP/1.1.", null, null);
                } else if (status.code() >= 500) {
                    e = new ApiException(status, "server_error", "The server had an error while processing your request.", null, null);
                } else {
                    e = new ApiException(status, "invalid_request_error",
                            message == null || message.isBlank() ? status.reasonPhrase() : message, null, null);
                }
                return response(headers, e);
            }
        };
        DirectHandlers.Builder handlers = DirectHandlers.builder();
        for (DirectHandler.EventType event : DirectHandler.EventType.values()) {
            handlers.addHandler(event, handler);
        }
        return handlers.build();
    }

    private static DirectHandler.TransportResponse response(ServerResponseHeaders headers, ApiException e) {
        byte[] body;
        try {
            body = Json.MAPPER.writeValueAsBytes(Responses.error(e.getMessage(), e.type(), e.param(), e.code()));
        } catch (Exception x) {
            body = new byte[0];
        }
        return DirectHandler.TransportResponse.builder().status(e.status()).headers(headers)
                .header(HeaderNames.CONTENT_TYPE, "application/json").entity(body).build();
    }

    /**
     * For a known path called with the wrong method: 405 with an {@code Allow} header (instead of
     * the 404 routing would give).
     */
    public static Handler methodNotAllowed(String allowed) {
        return (req, res) -> {
            res.header(HeaderNames.ALLOW, allowed);
            write(res, Status.METHOD_NOT_ALLOWED_405, "invalid_request_error", "Method " + req.prologue().method().text()
                    + " is not allowed on " + req.path().path() + "; use " + allowed + ".", null, null);
        };
    }

    static void write(ServerResponse res, Status status, String type, String message, String param, String code) {
        if (res.isSent()) {
            return;
        }
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        if (status == Status.TOO_MANY_REQUESTS_429 || status == Status.SERVICE_UNAVAILABLE_503) {
            res.header(HeaderNames.RETRY_AFTER, "1");
        }
        try {
            res.send(Json.MAPPER.writeValueAsBytes(Responses.error(message, type, param, code)));
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "could not send an error response: " + e);
        }
    }
}
