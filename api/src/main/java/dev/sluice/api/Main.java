package dev.sluice.api;

import dev.sluice.bindings.SystemInfo;
import dev.sluice.engine.Engine;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;

import sun.misc.Signal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** {@code bin/server}'s entry point: configuration, the model, the server, and a graceful SIGTERM. */
public final class Main {

    private static final System.Logger LOG = System.getLogger(Main.class.getName());
    private static final long DEMO_SEED = 42;
    private static boolean stopping;

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        ServerConfig config;
        try {
            config = ServerConfig.load(args, System.getenv());
        } catch (Cli.HelpRequested e) {
            System.out.print(Cli.usage());
            return;
        } catch (ServerConfig.InvalidConfigException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (config.model() != null && !Files.isRegularFile(config.model())) {
            System.err.println("error: --model " + config.model() + " is not a file");
            System.exit(2);
        }
        boolean demo = config.model() == null;
        String id = !config.modelName().isBlank() ? config.modelName()
                : demo ? "sluice-demo-" + config.demoPreset() + "-random"
                : config.model().getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
        ServedModel served = new ServedModel(id, demo);
        SluiceServer server = SluiceServer.start(config, served, () -> Engine.load(engineOptions(config)));
        LOG.log(System.Logger.Level.INFO, "listening on http://" + config.host() + ":" + server.port()
                + " (model loading; GET /health turns 200 when ready)");
        Duration drain = Duration.ofSeconds(config.shutdownDrainSeconds());
        // SIGTERM and SIGINT are handled here rather than in a shutdown hook: hooks run in no
        // order, and the JDK's logging hook would close the log before the drain is logged. The
        // drain runs first; then the JVM exits 0, as a clean stop should (a hook would exit 143).
        for (String signal : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(signal), s -> Thread.ofPlatform().name("sluice-shutdown").start(() ->
                    stop(server, drain, "SIG" + signal + ": draining in-flight requests for up to " + drain.toSeconds() + " s", 0)));
        }
        server.onEngineFailure(() -> stop(server, Duration.ofSeconds(5),
                "the engine stopped on a failure (" + served.failure() + "): exiting so that the process is restarted", 1));
        if (!server.awaitLoaded(Duration.ofDays(365))) {
            LOG.log(System.Logger.Level.ERROR, "not serving: " + served.failure());
            server.close();
            System.exit(1);
        }
        Thread.currentThread().join(); // the server runs until a signal or an engine failure
    }

    /** Drains, stops the server and exits with {@code status}; only the first call does it. */
    private static void stop(SluiceServer server, Duration drain, String why, int status) {
        synchronized (Main.class) {
            if (stopping) {
                return;
            }
            stopping = true;
        }
        LOG.log(status == 0 ? System.Logger.Level.INFO : System.Logger.Level.ERROR, why);
        try {
            server.shutdown(drain);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "shutdown failed", e);
            status = Math.max(status, 1);
        }
        System.exit(status);
    }

    static Engine.Options engineOptions(ServerConfig config) {
        Path model = config.model();
        if (model == null) {
            Preset preset = Preset.byId(config.demoPreset());
            LOG.log(System.Logger.Level.WARNING, "no --model given: serving a generated demo model (" + preset.id()
                    + ") with RANDOM WEIGHTS; its output is gibberish. See models/README.md for real models.");
            model = TestModelGenerator.ensure(preset, WeightType.Q8_0, DEMO_SEED);
        }
        Engine.Options options = Engine.Options.defaults(model)
                .withDevice(config.device())
                .withBlockSize(config.blockSize())
                .withCacheType(config.kvCacheType())
                .withSwapBytes(config.swapSpaceBytes())
                .withMaxModelLength(config.maxModelLen());
        if (config.threads() > 0) {
            options = options.withThreads(config.threads());
        } else {
            options = options.withThreads(SystemInfo.physicalCores());
        }
        if (config.kvCacheMemory() != null) {
            options = options.withKvBudget(config.kvCacheMemory());
        }
        if (config.kvCacheTokens() > 0) {
            options = options.withKvTokens(config.kvCacheTokens());
        }
        return options;
    }
}
