package dev.sluice.api.models;

import dev.sluice.engine.Engine;
import dev.sluice.scheduler.ComputeLane;
import dev.sluice.scheduler.EngineService;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Every model version the server has, by {@code name:version}: loaded in the background (one at a
 * time, so two loads do not fight over memory bandwidth), unloaded after draining. All versions
 * compute on one {@link ComputeLane}, taking turns step by step.
 */
public final class ModelRegistry implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ModelRegistry.class.getName());

    private final ConcurrentMap<String, ModelVersion> byId = new ConcurrentHashMap<>();
    private final List<String> order = new ArrayList<>(); // insertion order, for listings; guarded by itself
    private final Function<ModelSpec, Engine> loader;
    private final BiFunction<Engine, ModelVersion, EngineService> starter;
    private final ComputeLane lane;
    private final Object loading = new Object();

    /**
     * @param loader  builds a version's engine (on a loader thread)
     * @param starter starts serving an engine for a version
     */
    public ModelRegistry(Function<ModelSpec, Engine> loader, BiFunction<Engine, ModelVersion, EngineService> starter,
                         ComputeLane lane) {
        this.loader = loader;
        this.starter = starter;
        this.lane = lane;
    }

    public ComputeLane lane() {
        return lane;
    }

    /** Registers a version to load; {@link IllegalStateException} if {@code name:version} exists. */
    public ModelVersion add(ModelSpec spec) {
        ModelVersion version = new ModelVersion(spec);
        if (byId.putIfAbsent(spec.id(), version) != null) {
            throw new IllegalStateException("model version " + spec.id() + " already exists");
        }
        synchronized (order) {
            order.add(spec.id());
        }
        return version;
    }

    /** Loads {@code version} on a background thread; the future completes when it is READY or FAILED. */
    public CompletableFuture<ModelVersion> load(ModelVersion version) {
        CompletableFuture<ModelVersion> done = new CompletableFuture<>();
        Thread.ofPlatform().name("sluice-model-loader-" + version.id()).start(() -> {
            synchronized (loading) {
                try {
                    Engine engine = loader.apply(version.spec());
                    if (version.state() != ModelVersion.State.LOADING) {
                        engine.close(); // removed while it loaded
                    } else {
                        version.loaded(starter.apply(engine, version));
                        LOG.log(System.Logger.Level.INFO, "model " + version.id() + " is ready");
                    }
                } catch (Throwable t) {
                    version.failed(t);
                    LOG.log(System.Logger.Level.ERROR, "model " + version.id() + " failed to load", t);
                }
            }
            done.complete(version);
        });
        return done;
    }

    /**
     * Drains {@code version} (in-flight requests get up to {@code drain}), stops its engine, frees
     * its memory, and forgets it.
     */
    public void unload(ModelVersion version, Duration drain) throws InterruptedException {
        version.draining("The model " + version.id() + " is being unloaded.");
        EngineService service = version.serviceOrNull();
        try {
            if (service != null) {
                service.shutdown(drain);
            }
        } finally {
            version.unloaded();
            byId.remove(version.id(), version);
            synchronized (order) {
                order.remove(version.id());
            }
            LOG.log(System.Logger.Level.INFO, "model " + version.id() + " unloaded");
        }
    }

    public Optional<ModelVersion> get(String name, String version) {
        return Optional.ofNullable(byId.get(name + ":" + version));
    }

    /** Every version, in the order they were added. */
    public List<ModelVersion> all() {
        List<ModelVersion> all = new ArrayList<>();
        synchronized (order) {
            for (String id : order) {
                ModelVersion v = byId.get(id);
                if (v != null) {
                    all.add(v);
                }
            }
        }
        return all;
    }

    /** The versions of {@code name}, in the order they were added. */
    public List<ModelVersion> versions(String name) {
        return all().stream().filter(v -> v.name().equals(name)).toList();
    }

    /** Its engine stopped on a failure after it was serving: it serves no more (its memory stays until unloaded). */
    public void engineFailed(ModelVersion version, String reason) {
        version.engineFailed(reason);
    }

    /** The server is stopping: every version refuses new requests; in-flight ones finish. */
    public void drainAll() {
        all().forEach(v -> v.draining("The server is shutting down."));
    }

    /** Requests admitted by the engines and not yet finished, over every version. */
    public int pendingRequests() {
        int pending = 0;
        for (ModelVersion v : all()) {
            EngineService s = v.serviceOrNull();
            pending += s == null ? 0 : s.pendingRequests();
        }
        return pending;
    }

    /** Stops every engine, each given what is left of {@code drain}, then the lane. */
    public void close(Duration drain) {
        long deadline = System.nanoTime() + drain.toNanos();
        for (ModelVersion v : all()) {
            try {
                unload(v, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "unloading " + v.id() + " failed", e);
            }
        }
        lane.close();
    }

    /** Stops every engine at once (their requests are cancelled) and the lane. */
    @Override
    public void close() {
        close(Duration.ZERO);
    }
}
