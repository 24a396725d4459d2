package dev.sluice.api;

import dev.sluice.api.batch.BatchApi;
import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.http.ErrorHandlers;
import dev.sluice.api.http.Filters;
import dev.sluice.api.http.IdleBetweenRequests;
import dev.sluice.api.models.AdminService;
import dev.sluice.api.models.ModelRegistry;
import dev.sluice.api.models.ModelSpec;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.api.models.ModelsFile;
import dev.sluice.api.models.Router;
import dev.sluice.api.openai.OpenAiService;
import dev.sluice.api.responses.ResponsesService;
import dev.sluice.api.web.DashboardData;
import dev.sluice.api.web.WebService;
import dev.sluice.engine.Engine;
import dev.sluice.scheduler.ComputeLane;
import dev.sluice.scheduler.EngineLoop;
import dev.sluice.scheduler.EngineService;
import dev.sluice.scheduler.SchedulerConfig;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionSelector;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The HTTP server around the model versions it serves. It listens at once and loads the versions
 * in the background, one at a time, so {@code /health} reports 503 "loading" and then 200. Every
 * version computes on one {@link ComputeLane}. {@link #shutdown} is graceful: new requests get
 * 503, in-flight ones may finish for the drain period, then the listener stops and the engines
 * free their native memory. A version whose engine stops on a failure is marked failed (routes
 * send its traffic to their other versions); once no version can serve, readiness and liveness
 * turn 503 and the {@link #onEngineFailure} listener runs ({@link Main} exits, so an orchestrator
 * restarts the process).
 */
public final class SluiceServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(SluiceServer.class.getName());

    private final ServerConfig config;
    private final ModelRegistry registry;
    private final Router router;
    private final WebServer webServer;
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final ConnectionGuard guard;
    private final Admission admission;
    private final BatchApi batches;
    private final List<CompletableFuture<ModelVersion>> initialLoads = new ArrayList<>();
    private volatile Runnable onEngineFailure = () -> { };
    private volatile boolean stopped;

    private SluiceServer(ServerConfig config, Function<ModelSpec, Engine> loader) {
        this.config = config;
        this.registry = new ModelRegistry(loader, this::startService, ComputeLane.start(""));
        this.router = new Router(registry);
        this.guard = new ConnectionGuard(Duration.ofSeconds(config.httpReadTimeoutSeconds()),
                Duration.ofSeconds(config.stalledClientTimeoutSeconds()));
        this.admission = new Admission(config.maxQueuedRequests());
        this.batches = new BatchApi(config.dataDir(), config.maxFileBytes(), config.batchMaxInFlight(),
                config.costPerHour());
        Duration idle = Duration.ofSeconds(config.httpIdleTimeoutSeconds());
        this.webServer = WebServer.builder()
                .host(config.host())
                .port(config.port())
                .shutdownHook(false) // ours drains requests first
                // Our own checks answer 413 in OpenAI's format first: --max-request-bytes on every route
                // that reads a body, --max-file-bytes on uploads (the larger limit is Helidon's).
                .maxPayloadSize(Math.max(config.maxRequestBytes(), batches.maxUploadBytes()) + 1024)
                .directHandlers(ErrorHandlers.direct(config.maxRequestBytes())) // and Helidon's, past that, too
                // Only our HTTP/1 configuration (discovery would add a second, default one, and with two
                // candidates Helidon reads a connection's first bytes before any idle timeout applies).
                .protocolsDiscoverServices(false)
                .addConnectionSelector(new IdleBetweenRequests(Http1ConnectionSelector.builder()
                        .config(Http1Config.builder().addReceiveListener(guard.listener())
                                .maxPrologueLength(16 * 1024).build()) // long URLs get a 404, not a closed connection
                        .build(), guard)) // idle means between requests, not since the last one began
                .idleConnectionTimeout(idle)
                // Streams are many small writes (an SSE event per token). With Nagle's algorithm on
                // (Helidon's default), a write waits for the ACK of the one before, and a client's
                // delayed ACK holds that back up to 40 ms: on a kept-alive connection every request's
                // first token came 40 ms late (bin/head-to-head single: TTFT p50 212 ms against 170).
                .connectionOptions(options -> options.tcpNoDelay(true))
                .idleConnectionPeriod(idle.dividedBy(4).compareTo(Duration.ofSeconds(5)) < 0 ? idle.dividedBy(4) : Duration.ofSeconds(5))
                .routing(this::routing)
                .build();
    }

    /**
     * Starts listening, registers the file's versions and routes, then loads the versions (with
     * {@code loader}, on a background thread, one at a time).
     */
    public static SluiceServer start(ServerConfig config, ModelsFile models, Function<ModelSpec, Engine> loader) {
        SluiceServer server = new SluiceServer(config, loader);
        List<ModelVersion> versions = new ArrayList<>();
        for (ModelSpec spec : models.models()) {
            versions.add(server.registry.add(spec));
        }
        for (Map.Entry<String, dev.sluice.api.models.Route> e : models.routes().entrySet()) {
            server.router.setRoute(e.getKey(), e.getValue());
        }
        server.webServer.start();
        if (server.webServer.port() < 0) {
            // Helidon logs a failed bind (the port is taken, or not ours to use) and carries on
            // with no listener: a process that serves nothing must not look alive.
            server.registry.close(Duration.ZERO);
            server.guard.close();
            throw new IllegalStateException("could not listen on " + config.host() + ":" + config.port()
                    + " (is another process using the port?)");
        }
        server.batches.resume();
        for (ModelVersion v : versions) {
            server.initialLoads.add(server.registry.load(v));
        }
        return server;
    }

    /** The scheduler's settings for an engine: the server's, with the engine's (fitted) context length. */
    private EngineService startService(Engine engine, ModelVersion version) {
        SchedulerConfig scheduling = new SchedulerConfig(config.maxBatchedTokens(), config.maxSeqs(), engine.maxModelLength(),
                config.prefixCaching(), 0, config.maxRequestShare(), config.maxPromptChunk(), config.batchSlack());
        EngineLoop.Limits limits = new EngineLoop.Limits(Duration.ofSeconds(config.stalledClientTimeoutSeconds()),
                Duration.ofSeconds(config.engineStallTimeoutSeconds()));
        if (stopped) {
            throw new IllegalStateException("the server is stopping");
        }
        EngineService service = EngineService.start(engine, scheduling, limits, () -> engineFailed(version), registry.lane());
        LOG.log(System.Logger.Level.INFO, "serving " + version.id() + (version.spec().isRandomDemo() ? " (RANDOM WEIGHTS demo)" : "")
                + " on http://" + config.host() + ":" + port());
        return service;
    }

    /** Runs on the lane's thread when a version's engine loop has stopped on a failure. */
    private void engineFailed(ModelVersion version) {
        EngineService service = version.serviceOrNull();
        String reason = service == null ? "the engine stopped" : service.health().reason();
        LOG.log(System.Logger.Level.ERROR, "model " + version.id() + " cannot serve any more: " + reason);
        registry.engineFailed(version, reason);
        if (registry.all().stream().noneMatch(v -> v.isReady() || v.state() == ModelVersion.State.LOADING)) {
            Thread.ofPlatform().name("sluice-engine-failure").start(onEngineFailure);
        }
    }

    /** Runs (on its own thread) once engine failures have left no version that can serve. */
    public void onEngineFailure(Runnable listener) {
        this.onEngineFailure = listener;
    }

    private void routing(HttpRouting.Builder routing) {
        routing.addFilter(Filters.accessLog());
        routing.addFilter(Filters.keepAliveTimeout(config.httpIdleTimeoutSeconds()));
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
        if (!config.adminApiKeys().isEmpty()) {
            routing.addFilter(Filters.adminKeys(config.adminApiKeys()));
            routing.register(new AdminService(registry, router, config.maxRequestBytes(), guard,
                    Duration.ofSeconds(config.shutdownDrainSeconds())));
        }
        routing.register(new HealthService(registry, router, admission, () -> stopped));
        routing.register(new MetricsService(registry, router, config.costPerHour()));
        routing.register(new TokenizerService(router, config.maxRequestBytes(), guard));
        OpenAiService openAi = new OpenAiService(registry, router, config, admission, guard);
        routing.register(openAi);
        routing.register(new ResponsesService(openAi.chatRuns(), config.responsesMaxStored(), config.responsesMaxAgeSeconds(),
                config.responsesMaxStoredBytes()));
        batches.register(routing, openAi.batchLines(config.batchMaxInFlight()), guard);
        routing.register(new WebService(new DashboardData(new MetricsService(registry, router, config.costPerHour())::text, registry, router), config));
        ErrorHandlers.register(routing);
    }

    public int port() {
        return webServer.port();
    }

    public ModelRegistry registry() {
        return registry;
    }

    public Router router() {
        return router;
    }

    /**
     * Waits until every version given at start has loaded or failed; true when all of them
     * serve.
     */
    public boolean awaitLoaded(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean all = true;
        for (CompletableFuture<ModelVersion> load : initialLoads) {
            try {
                all &= load.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS).isReady();
            } catch (ExecutionException | TimeoutException e) {
                return false;
            }
        }
        return all;
    }

    /**
     * Graceful stop: refuse new work (503), give in-flight requests up to {@code drain} to finish,
     * stop listening, then stop the engines (cancelling what is left) and free their memory.
     */
    public synchronized void shutdown(Duration drain) throws InterruptedException {
        if (stopped) {
            return;
        }
        stopped = true;
        batches.close(); // running batch lines stop and stay waiting: the next start runs them
        registry.drainAll();
        long deadline = System.nanoTime() + drain.toNanos();
        while (System.nanoTime() < deadline && (activeRequests.get() > 0 || registry.pendingRequests() > 0)) {
            Thread.sleep(20);
        }
        registry.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
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
