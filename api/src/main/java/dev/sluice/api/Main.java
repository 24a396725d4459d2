package dev.sluice.api;

import dev.sluice.api.models.ModelSpec;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.api.models.ModelsFile;
import dev.sluice.api.models.Route;
import dev.sluice.bindings.CpuAllowance;
import dev.sluice.engine.Engine;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;

import sun.misc.Signal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

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
        ModelsFile models;
        try {
            models = models(config);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        SluiceServer server;
        try {
            server = SluiceServer.start(config, models, spec -> Engine.load(engineOptions(config, spec)));
        } catch (IllegalStateException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
            return;
        }
        LOG.log(System.Logger.Level.INFO, "listening on http://" + config.host() + ":" + server.port()
                + " (loading " + models.models().size() + " model version(s); GET /health turns 200 when ready)");
        Duration drain = Duration.ofSeconds(config.shutdownDrainSeconds());
        // SIGTERM and SIGINT are handled here rather than in a shutdown hook: hooks run in no
        // order, and the JDK's logging hook would close the log before the drain is logged. The
        // drain runs first; then the JVM exits 0, as a clean stop should (a hook would exit 143).
        for (String signal : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(signal), s -> Thread.ofPlatform().name("sluice-shutdown").start(() ->
                    stop(server, drain, "SIG" + signal + ": draining in-flight requests for up to " + drain.toSeconds() + " s", 0)));
        }
        server.onEngineFailure(() -> stop(server, Duration.ofSeconds(5),
                "no model version can serve any more (engine failures): exiting so that the process is restarted", 1));
        if (!server.awaitLoaded(Duration.ofDays(365))) {
            List<ModelVersion> failed = server.registry().all().stream().filter(v -> !v.isReady()).toList();
            for (ModelVersion v : failed) {
                LOG.log(System.Logger.Level.ERROR, "not serving " + v.id() + ": " + v.failure());
            }
            if (server.registry().all().stream().noneMatch(ModelVersion::isReady)) {
                server.close();
                System.exit(1);
            }
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

    /**
     * What to serve: the {@code --models} file, or the one {@code --model} (named by
     * {@code --model-name} or its file name, version {@code --model-version}), or the demo model.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    static ModelsFile models(ServerConfig config) {
        ModelsFile models;
        if (config.models() != null) {
            models = ModelsFile.read(config.models());
        } else {
            models = new ModelsFile(List.of(singleModel(config)), Map.of());
            models = new ModelsFile(models.models(), Map.of(models.models().getFirst().name(),
                    Route.single(config.modelVersion())));
        }
        for (ModelSpec spec : models.models()) {
            if (spec.path() != null && !Files.isRegularFile(spec.path())) {
                throw new IllegalArgumentException((config.models() != null ? "model " + spec.id() + ": " : "--model ")
                        + spec.path() + " is not a file");
            }
        }
        return models;
    }

    private static ModelSpec singleModel(ServerConfig config) {
        Path model = config.model();
        if (model == null) {
            String name = !config.modelName().isBlank() ? config.modelName() : "sluice-demo-" + config.demoPreset() + "-random";
            return ModelSpec.demo(name, config.modelVersion(), config.demoPreset());
        }
        String name = !config.modelName().isBlank() ? config.modelName()
                : model.getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
        return ModelSpec.of(name, config.modelVersion(), model);
    }

    /** The engine options of the one model {@code --model} (or the demo model) names. */
    static Engine.Options engineOptions(ServerConfig config) {
        return engineOptions(config, singleModel(config));
    }

    /** The engine options of {@code spec}: the server's, with what the spec sets instead. */
    static Engine.Options engineOptions(ServerConfig config, ModelSpec spec) {
        Path model = spec.path();
        if (spec.isRandomDemo()) {
            Preset preset = Preset.byId(spec.demo());
            LOG.log(System.Logger.Level.WARNING, spec.id() + " is a generated demo model (" + preset.id()
                    + ") with RANDOM WEIGHTS; its output is gibberish. See models/README.md for real models.");
            model = TestModelGenerator.ensure(preset, WeightType.Q8_0, DEMO_SEED);
        }
        Engine.Options options = Engine.Options.defaults(model)
                .withDevice(config.device())
                .withBlockSize(config.blockSize())
                .withCacheType(config.kvCacheType())
                .withSwapBytes(config.swapSpaceBytes())
                .withMaxModelLength(spec.maxModelLen() > 0 ? spec.maxModelLen() : config.maxModelLen())
                .withChatTemplate(spec.chatTemplate());
        if (config.threads() > 0) {
            options = options.withThreads(config.threads());
        } else {
            // One compute thread per CPU this process can really get: more would wait at ggml's
            // barriers for a thread the kernel has parked.
            CpuAllowance cpus = CpuAllowance.detect();
            options = options.withThreads(cpus.defaultThreads());
            LOG.log(System.Logger.Level.INFO, "compute threads: " + cpus.defaultThreads() + " (" + cpus.describe() + ")");
        }
        if (spec.kvCacheMemory() != null) {
            options = options.withKvBudget(spec.kvCacheMemory());
        } else if (spec.kvCacheTokens() > 0) {
            options = options.withKvTokens(spec.kvCacheTokens());
        } else if (config.kvCacheTokens() > 0) {
            options = options.withKvTokens(config.kvCacheTokens());
        } else if (config.kvCacheMemory() != null) {
            options = options.withKvBudget(config.kvCacheMemory());
        }
        return options;
    }
}
