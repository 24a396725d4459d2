package dev.sluice.api.models;

import dev.sluice.api.http.ApiException;
import dev.sluice.scheduler.EngineService;

/**
 * A model version the server knows, and where it is in its life: LOADING (its engine is being
 * built; the server answers meanwhile), READY, FAILED (the load failed, or its engine stopped on a
 * failure), DRAINING (being unloaded: in-flight requests finish, new ones go elsewhere), UNLOADED.
 */
public final class ModelVersion {

    /** Lifecycle as the admin API, {@code /v1/models} and health report it. */
    public enum State { LOADING, READY, FAILED, DRAINING, UNLOADED }

    private final ModelSpec spec;
    private final long created = System.currentTimeMillis() / 1000;
    private final VersionStats stats = new VersionStats();
    private volatile EngineService service;
    private volatile State state = State.LOADING;
    private volatile String failure;
    private volatile String drainingWhy;
    private volatile Throwable loadError;

    public ModelVersion(ModelSpec spec) {
        this.spec = spec;
    }

    public ModelSpec spec() {
        return spec;
    }

    public String name() {
        return spec.name();
    }

    public String version() {
        return spec.version();
    }

    /** {@code name:version}. */
    public String id() {
        return spec.id();
    }

    public long created() {
        return created;
    }

    public State state() {
        return state;
    }

    public boolean isReady() {
        return state == State.READY;
    }

    /** What made its load fail, or null. */
    public Throwable loadError() {
        return loadError;
    }

    /** Why it failed, or null. */
    public String failure() {
        return failure;
    }

    public VersionStats stats() {
        return stats;
    }

    /** The loaded service, or null before it is ready (and after it is unloaded). */
    public EngineService serviceOrNull() {
        return service;
    }

    void loaded(EngineService service) {
        this.service = service;
        this.state = State.READY;
    }

    void failed(Throwable error) {
        this.loadError = error;
        String message = error.getMessage() == null ? error.toString() : error.getMessage();
        this.failure = "failed to load: " + message;
        this.state = State.FAILED;
    }

    /** Its engine stopped after it was serving: it serves no more. */
    void engineFailed(String reason) {
        this.failure = reason;
        this.state = State.FAILED;
    }

    /** New requests get 503 saying {@code why}; in-flight ones finish. */
    void draining(String why) {
        if (state == State.READY || state == State.LOADING) {
            drainingWhy = why;
            state = State.DRAINING;
        }
    }

    void unloaded() {
        this.state = State.UNLOADED;
        this.service = null;
    }

    /** The service for handling a request; 503 unless ready. */
    public EngineService ready() {
        EngineService s = service;
        return switch (state) {
            case READY -> s;
            case LOADING -> throw ApiException.unavailable("The model " + id() + " is still loading; retry shortly.");
            case DRAINING -> throw ApiException.unavailable(drainingWhy);
            case UNLOADED -> throw ApiException.unavailable("The model " + id() + " has been unloaded.");
            case FAILED -> throw ApiException.unavailable("The model " + id() + " is not available: " + failure);
        };
    }

    @Override
    public String toString() {
        return "ModelVersion[" + id() + ", " + state + "]";
    }
}
