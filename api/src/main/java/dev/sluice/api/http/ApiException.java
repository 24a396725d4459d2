package dev.sluice.api.http;

import io.helidon.http.Status;

/**
 * An error the client gets as OpenAI's {@code {"error": {"message", "type", "param", "code"}}}
 * with an HTTP status. Thrown anywhere in request handling; {@link ErrorHandler} renders it.
 */
public final class ApiException extends RuntimeException {

    private final Status status;
    private final String type;
    private final String param;
    private final String code;
    private boolean closesConnection;

    public ApiException(Status status, String type, String message, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400 invalid_request_error about {@code param}. */
    public static ApiException invalid(String param, String message) {
        return new ApiException(Status.BAD_REQUEST_400, "invalid_request_error", message, param, null);
    }

    /** 400 with an error code (e.g. {@code context_length_exceeded}). */
    public static ApiException invalid(String param, String message, String code) {
        return new ApiException(Status.BAD_REQUEST_400, "invalid_request_error", message, param, code);
    }

    public static ApiException notFound(String message, String param, String code) {
        return new ApiException(Status.NOT_FOUND_404, "invalid_request_error", message, param, code);
    }

    public static ApiException unavailable(String message) {
        return new ApiException(Status.SERVICE_UNAVAILABLE_503, "service_unavailable", message, null, null);
    }

    /** The response to this error closes the connection (the request could not be read to its end). */
    public ApiException closingConnection() {
        this.closesConnection = true;
        return this;
    }

    public boolean closesConnection() {
        return closesConnection;
    }

    public Status status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }
}
