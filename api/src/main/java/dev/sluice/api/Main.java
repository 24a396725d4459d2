package dev.sluice.api;

import dev.sluice.bindings.CpuAllowance;
import dev.sluice.engine.Engine;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** {@code bin/server}'s entry point: configuration, the model, the server, and a graceful SIGTERM. */
public final class Main {

    private static final System.Logger LOG = System.getLogger(Main.class.getName());
    private static final long DEMO_SEED = 42;

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
        Thread hook = Thread.ofPlatform().unstarted(() -> {
            LOG.log(System.Logger.Level.INFO, "shutting down: draining in-flight requests for up to "
                    + config.shutdownDrainSeconds() + " s");
            try {
                server.shutdown(Duration.ofSeconds(config.shutdownDrainSeconds()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        if (!server.awaitLoaded(Duration.ofDays(365))) {
            LOG.log(System.Logger.Level.ERROR, "not serving: " + served.failure());
            Runtime.getRuntime().removeShutdownHook(hook);
            server.close();
            System.exit(1);
        }
        Thread.currentThread().join(); // the server runs until SIGTERM / SIGINT
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
            // One compute thread per CPU this process can really get: more would wait at ggml's
            // barriers for a thread the kernel has parked.
            CpuAllowance cpus = CpuAllowance.detect();
            options = options.withThreads(cpus.defaultThreads());
            LOG.log(System.Logger.Level.INFO, "compute threads: " + cpus.defaultThreads() + " (" + cpus.describe() + ")");
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
