package dev.sluice.scheduler;

import dev.sluice.engine.Engine;
import dev.sluice.engine.step.EngineExecutor;
import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvCacheManager;
import dev.sluice.scheduler.metrics.EngineMetrics;

import java.time.Duration;

/**
 * An {@link Engine} put to work: a scheduler over its KV pool and the engine loop thread driving
 * it. What the API talks to. {@link #shutdown} drains in-flight requests, stops the loop, then
 * frees the engine's native memory.
 */
public final class EngineService implements AutoCloseable {

    private final Engine engine;
    private final Scheduler scheduler;
    private final EngineLoop loop;
    private final EngineMetrics metrics = new EngineMetrics();
    /** A lane of its own (closed with the service), or null when it shares one. */
    private ComputeLane ownLane;
    private boolean shutDown;

    private EngineService(Engine engine, SchedulerConfig config, EngineLoop.Limits limits) {
        this.engine = engine;
        KvCacheManager kv = new KvCacheManager(new BlockPool(engine.kvCache().blocks()), engine.kvCache().blockSize(),
                config.prefixCaching());
        this.scheduler = new Scheduler(config.withSwapBlocks(engine.swapArea().slots()), kv);
        this.loop = new EngineLoop(scheduler, () -> new EngineExecutor(engine.runner(), engine.kvCache(), engine.swapArea(),
                engine.newSamplingWorkspace()), engine.tokenizer().texts(), metrics, limits);
    }

    /** Starts serving {@code engine}; the service owns it from now on. */
    public static EngineService start(Engine engine, SchedulerConfig config) {
        return start(engine, config, EngineLoop.Limits.DEFAULT, () -> { });
    }

    /**
     * Starts serving {@code engine} with the loop's {@code limits}; {@code onFailure} runs if the
     * engine loop stops on a failure (see {@link EngineLoop}).
     */
    public static EngineService start(Engine engine, SchedulerConfig config, EngineLoop.Limits limits,
                                      Runnable onFailure) {
        ComputeLane lane = ComputeLane.start("");
        EngineService service = start(engine, config, limits, onFailure, lane);
        service.ownLane = lane;
        return service;
    }

    /**
     * As {@link #start(Engine, SchedulerConfig, EngineLoop.Limits, Runnable)}, on {@code lane},
     * which it shares with the other engines on the same device.
     */
    public static EngineService start(Engine engine, SchedulerConfig config, EngineLoop.Limits limits,
                                      Runnable onFailure, ComputeLane lane) {
        EngineService service = new EngineService(engine, config, limits);
        service.loop.onFailure(onFailure);
        lane.attach(service.loop);
        return service;
    }

    public Engine engine() {
        return engine;
    }

    public SchedulerConfig config() {
        return scheduler.config();
    }

    public EngineMetrics metrics() {
        return metrics;
    }

    /** See {@link EngineLoop#submit}. */
    public Request submit(Request request) {
        return loop.submit(request);
    }

    /** Checks a request without queueing it (throws {@link RequestRejectedException}). */
    public void validate(Request request) {
        scheduler.validate(request);
    }

    public int pendingRequests() {
        return loop.pendingRequests();
    }

    /** Liveness of the engine loop (see {@link EngineLoop#health()}). */
    public EngineLoop.Health health() {
        return loop.health();
    }

    /** Stops accepting, finishes in-flight requests for up to {@code drain}, then frees everything. */
    public synchronized void shutdown(Duration drain) throws InterruptedException {
        if (shutDown) {
            return;
        }
        shutDown = true;
        try {
            loop.shutdown(drain);
        } finally {
            if (ownLane != null) {
                ownLane.close();
            }
            // Safe off the lane's thread: the lane has let go of this engine for good (shutdown
            // returned after the lane released the loop), so nothing else touches it.
            engine.close();
        }
    }

    @Override
    public void close() {
        try {
            shutdown(Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
