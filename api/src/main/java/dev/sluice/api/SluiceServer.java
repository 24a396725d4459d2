package dev.sluice.api;

import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.http.ErrorHandlers;
import dev.sluice.api.http.Filters;
import dev.sluice.api.openai.OpenAiService;
import dev.sluice.engine.Engine;
import dev.sluice.scheduler.EngineLoop;
import dev.sluice.scheduler.EngineService;
import dev.sluice.scheduler.SchedulerConfig;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http1.Http1Config;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The HTTP server around one model. It listens at once and loads the model in the background, so
 * {@code /health} reports 503 "loading" and then 200. {@link #shutdown} is graceful: new requests
 * get 503, in-flight ones may finish for the drain period, then the listener stops and the
 * engine frees its native memory. If the engine stops on a failure, readiness and liveness turn
 * 503 with the reason and the {@link #onEngineFailure} listener runs ({@link Main} exits, so an
 * orchestrator restarts the process).
 */
public final class SluiceServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(SluiceServer.class.getName());

    private final ServerConfig config;
    private final ServedModel served;
    private final WebServer webServer;
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final CountDownLatch loadFinished = new CountDownLatch(1);
    private final ConnectionGuard guard;
    private final Admission admission;
    private volatile Runnable onEngineFailure = () -> { };
    private volatile boolean stopped;

    private SluiceServer(ServerConfig config, ServedModel served) {
        this.config = config;
        this.served = served;
        this.guard = new ConnectionGuard(Duration.ofSeconds(config.httpReadTimeoutSeconds()),
                Duration.ofSeconds(config.stalledClientTimeoutSeconds()));
        this.admission = new Admission(config.maxQueuedRequests());
        Duration idle = Duration.ofSeconds(config.httpIdleTimeoutSeconds());
        this.webServer = WebServer.builder()
                .host(config.host())
                .port(config.port())
                .shutdownHook(false) // ours drains requests first
                .maxPayloadSize(config.maxRequestBytes() + 1024) // our own check answers 413 in OpenAI's format first
                .directHandlers(ErrorHandlers.direct(config.maxRequestBytes())) // and Helidon's, past that, too
                // Only our HTTP/1 configuration (discovery would add a second, default one, and with two
                // candidates Helidon reads a connection's first bytes before any idle timeout applies).
                .protocolsDiscoverServices(false)
                .addProtocol(Http1Config.builder().addReceiveListener(guard.listener())
                        .maxPrologueLength(16 * 1024).build()) // long URLs get a 404, not a closed connection
                .idleConnectionTimeout(idle)
                .idleConnectionPeriod(idle.dividedBy(4).compareTo(Duration.ofSeconds(5)) < 0 ? idle.dividedBy(4) : Duration.ofSeconds(5))
                .routing(this::routing)
                .build();
    }

    /** Starts listening, then loads the engine from {@code engineLoader} on a background thread. */
    public static SluiceServer start(ServerConfig config, ServedModel served, Supplier<Engine> engineLoader) {
        SluiceServer server = new SluiceServer(config, served);
        server.webServer.start();
        Thread.ofPlatform().name("sluice-model-loader").start(() -> server.load(engineLoader));
        return server;
    }

    private void load(Supplier<Engine> engineLoader) {
        try {
            Engine engine = engineLoader.get();
            int maxModelLength = engine.maxModelLength();
            SchedulerConfig scheduling = new SchedulerConfig(config.maxBatchedTokens(), config.maxSeqs(), maxModelLength,
                    config.prefixCaching(), 0, config.maxRequestShare());
            EngineLoop.Limits limits = new EngineLoop.Limits(Duration.ofSeconds(config.stalledClientTimeoutSeconds()),
                    Duration.ofSeconds(config.engineStallTimeoutSeconds()));
            EngineService service = EngineService.start(engine, scheduling, limits, this::engineFailed);
            if (stopped) {
                service.close();
                return;
            }
            served.loaded(service);
            LOG.log(System.Logger.Level.INFO, "serving " + served.id() + (served.isRandomDemo() ? " (RANDOM WEIGHTS demo)" : "")
                    + " on http://" + config.host() + ":" + port());
        } catch (Throwable t) {
            served.failed(t.getMessage() == null ? t.toString() : t.getMessage());
            LOG.log(System.Logger.Level.ERROR, "the model failed to load", t);
        } finally {
            loadFinished.countDown();
        }
    }

    /** Runs on the engine thread when the engine loop has stopped on a failure. */
    private void engineFailed() {
        EngineService service = served.serviceOrNull();
        String reason = service == null ? "the engine stopped" : service.health().reason();
        LOG.log(System.Logger.Level.ERROR, "the engine cannot serve any more: " + reason);
        served.engineFailed(reason);
        Thread.ofPlatform().name("sluice-engine-failure").start(onEngineFailure);
    }

    /** Runs (on its own thread) once the engine has stopped on a failure. */
    public void onEngineFailure(Runnable listener) {
        this.onEngineFailure = listener;
    }

    private void routing(HttpRouting.Builder routing) {
        routing.addFilter(Filters.accessLog());
        routing.addFilter((chain, req, res) -> {
            activeRequests.incrementAndGet();
            try {
                chain.proceed();
            } finally {
                activeRequests.decrementAndGet();
                guard.ended(req);
            }
        });
        if (!config.corsAllowedOrigins().isEmpty()) {
            routing.addFilter(Filters.cors(config.corsAllowedOrigins()));
        }
        if (!config.apiKeys().isEmpty()) {
            routing.addFilter(Filters.apiKeys(config.apiKeys()));
        }
        routing.register(new OpsService(served, config.maxRequestBytes(), admission, guard));
        routing.register(new OpenAiService(served, config, admission, guard));
        ErrorHandlers.register(routing);
    }

    public int port() {
        return webServer.port();
    }

    public ServedModel served() {
        return served;
    }

    /** Waits until the model is loaded or failed; true when it is serving. */
    public boolean awaitLoaded(Duration timeout) throws InterruptedException {
        return loadFinished.await(timeout.toMillis(), TimeUnit.MILLISECONDS) && served.state() == ServedModel.State.READY;
    }

    /**
     * Graceful stop: refuse new work (503), give in-flight requests up to {@code drain} to finish,
     * stop listening, then stop the engine (cancelling what is left) and free its memory.
     */
    public synchronized void shutdown(Duration drain) throws InterruptedException {
        if (stopped) {
            return;
        }
        stopped = true;
        served.draining();
        long deadline = System.nanoTime() + drain.toNanos();
        EngineService service = served.serviceOrNull();
        while (System.nanoTime() < deadline && (activeRequests.get() > 0 || (service != null && service.pendingRequests() > 0))) {
            Thread.sleep(20);
        }
        if (service != null) {
            service.shutdown(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
        webServer.stop();
        guard.close();
        LOG.log(System.Logger.Level.INFO, "stopped");
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
