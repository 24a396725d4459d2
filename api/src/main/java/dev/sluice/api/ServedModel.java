package dev.sluice.api;

import dev.sluice.api.http.ApiException;
import dev.sluice.scheduler.EngineService;

/**
 * The model the server serves, and whether it is ready. The HTTP server starts before the model
 * has loaded, so health checks can tell "loading" from "down"; until {@link #ready} succeeds,
 * model endpoints answer 503.
 *
 * @param id         the name clients pass as {@code model}
 * @param randomDemo true for the generated demo model (random weights)
 */
public final class ServedModel {

    /** Lifecycle as {@code /health} reports it; FAILED after a failed load or once the engine stopped on a failure. */
    public enum State { LOADING, READY, FAILED, DRAINING }

    private final String id;
    private final boolean randomDemo;
    private final long created = System.currentTimeMillis() / 1000;
    private volatile EngineService service;
    private volatile State state = State.LOADING;
    private volatile String failure;

    public ServedModel(String id, boolean randomDemo) {
        this.id = id;
        this.randomDemo = randomDemo;
    }

    public String id() {
        return id;
    }

    public boolean isRandomDemo() {
        return randomDemo;
    }

    public long created() {
        return created;
    }

    public State state() {
        return state;
    }

    public String failure() {
        return failure;
    }

    void loaded(EngineService service) {
        this.service = service;
        this.state = State.READY;
    }

    void failed(String message) {
        this.failure = "failed to load: " + message;
        this.state = State.FAILED;
    }

    /** The engine stopped after the model was serving: it will not serve again. */
    void engineFailed(String reason) {
        this.failure = reason;
        this.state = State.FAILED;
    }

    void draining() {
        if (state == State.READY) {
            state = State.DRAINING;
        }
    }

    /**
     * Checks the {@code model} a request names (null: the client named none, which is fine);
     * 404 {@code model_not_found} otherwise, quoting at most the first 256 characters of the name.
     */
    public void requireModel(String requested) {
        if (requested != null && !requested.equals(id)) {
            throw notFound(requested);
        }
    }

    /** 404 for a model this server does not serve. */
    public static ApiException notFound(String requested) {
        String shown = requested.length() <= 256 ? requested : requested.substring(0, 256) + "…";
        return ApiException.notFound("The model '" + shown + "' does not exist.", "model", "model_not_found");
    }

    /** The loaded service, or null before it is ready. */
    public EngineService serviceOrNull() {
        return service;
    }

    /** The service for handling a request; 503 while loading, failed or shutting down. */
    public EngineService ready() {
        return switch (state) {
            case READY -> service;
            case LOADING -> throw ApiException.unavailable("The model is still loading; retry shortly.");
            case DRAINING -> throw ApiException.unavailable("The server is shutting down.");
            case FAILED -> throw ApiException.unavailable("The model is not available: " + failure);
        };
    }
}
