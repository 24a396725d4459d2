package dev.sluice.scheduler;

import dev.sluice.engine.Engine;
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
    private boolean shutDown;

    private EngineService(Engine engine, SchedulerConfig config) {
        this.engine = engine;
        KvCacheManager kv = new KvCacheManager(new BlockPool(engine.kvCache().blocks()), engine.kvCache().blockSize(),
                config.prefixCaching());
        this.scheduler = new Scheduler(config.withSwapBlocks(engine.swapArea().slots()), kv);
        this.loop = new EngineLoop(scheduler, new EngineExecutor(engine.runner(), engine.kvCache(), engine.swapArea()),
                engine.tokenizer(), engine::newSamplingWorkspace, metrics);
    }

    /** Starts serving {@code engine}; the service owns it from now on. */
    public static EngineService start(Engine engine, SchedulerConfig config) {
        EngineService service = new EngineService(engine, config);
        service.loop.start();
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

    /** Stops accepting, finishes in-flight requests for up to {@code drain}, then frees everything. */
    public synchronized void shutdown(Duration drain) throws InterruptedException {
        if (shutDown) {
            return;
        }
        shutDown = true;
        try {
            loop.shutdown(drain);
        } finally {
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
