package dev.sluice.api;

import dev.sluice.engine.Engine;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.kv.KvCacheBudget;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ServerConfig#load}: defaults, the CLI > environment > system properties > YAML order, and errors. */
class ServerConfigTest {

    private static ServerConfig load(Map<String, String> env, String... args) {
        return ServerConfig.load(args, env);
    }

    @Test
    void defaults() {
        ServerConfig c = load(Map.of());
        assertEquals("127.0.0.1", c.host());
        assertEquals(8080, c.port());
        assertNull(c.model());
        assertEquals("", c.modelName());
        assertEquals("smollm2-135m-shape", c.demoPreset());
        assertEquals(Engine.Device.AUTO, c.device());
        assertEquals(0, c.threads());
        assertNull(c.kvCacheMemory());
        assertEquals(KvCache.CacheType.F16, c.kvCacheType());
        assertEquals(16, c.blockSize());
        assertEquals(0, c.swapSpaceBytes());
        assertEquals(0, c.maxModelLen());
        assertEquals(2048, c.maxBatchedTokens());
        assertEquals(256, c.maxSeqs());
        assertTrue(c.prefixCaching());
        assertEquals(1024, c.maxQueuedRequests());
        assertEquals(16 << 20, c.maxRequestBytes());
        assertEquals(List.of(), c.apiKeys());
        assertEquals(List.of(), c.corsAllowedOrigins());
        assertEquals(29, c.shutdownDrainSeconds(), "from the (test) application.yaml");
    }

    /** The shipped application.yaml holds only the defaults Option documents (so --help tells the truth). */
    @Test
    void shippedYamlAgreesWithTheOptionDefaults() throws IOException {
        URL main = Collections.list(ServerConfigTest.class.getClassLoader().getResources("application.yaml")).stream()
                .filter(u -> !u.toString().contains("test-classes")).findFirst().orElseThrow();
        String yaml;
        try (InputStream in = main.openStream()) {
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Config config = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                .sources(ConfigSources.create(yaml, MediaTypes.APPLICATION_X_YAML)).build();
        int keys = 0;
        for (Option o : Option.values()) {
            var value = config.get(o.key()).asString();
            if (value.isPresent()) {
                keys++;
                assertEquals(o.defaultValue(), value.get(), o.key() + " in application.yaml");
            }
        }
        assertTrue(keys >= 5, "application.yaml lists the main settings");
    }

    @Test
    void cliBeatsEnvironmentBeatsSystemPropertiesBeatsYaml() {
        String key = Option.SHUTDOWN_DRAIN_SECONDS.key();
        String env = Option.SHUTDOWN_DRAIN_SECONDS.environmentVariable();
        assertEquals("SLUICE_SHUTDOWN_DRAIN_SECONDS", env);
        assertEquals(29, load(Map.of()).shutdownDrainSeconds(), "YAML over the default (30)");
        String previous = System.getProperty(key);
        System.setProperty(key, "28");
        try {
            assertEquals(28, load(Map.of()).shutdownDrainSeconds(), "system property over YAML");
            assertEquals(27, load(Map.of(env, "27")).shutdownDrainSeconds(), "environment over system property");
            assertEquals(26, load(Map.of(env, "27"), "--shutdown-drain-seconds", "26").shutdownDrainSeconds(), "CLI over all");
            assertEquals(25, load(Map.of(env, "27"), "--shutdown-drain-seconds=25").shutdownDrainSeconds(), "--flag=value");
        } finally {
            if (previous == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, previous);
            }
        }
        // A variable that is no SLUICE_ option is ignored; an unrelated system property too.
        assertEquals(8080, load(Map.of("PORT", "1", "SERVER_PORT", "2")).port());
        assertEquals(9001, load(Map.of("SLUICE_PORT", "9001")).port());
        assertEquals(9002, load(Map.of("SLUICE_PORT", "9001"), "--port", "9003", "--port", "9002").port(), "the last flag wins");
    }

    @Test
    void valuesAreParsed() {
        ServerConfig c = load(Map.of("SLUICE_API_KEY", " a, b ,,c ", "SLUICE_DEVICE", "CPU"),
                "--model", "/models/x.gguf", "--kv-cache-memory", "2GiB", "--swap-space", "512m", "--kv-cache-type", "q8_0",
                "--cors-allowed-origins", "*", "--enable-prefix-caching", "off", "--host", " 0.0.0.0 ");
        assertEquals(List.of("a", "b", "c"), c.apiKeys());
        assertEquals(Engine.Device.CPU, c.device());
        assertEquals(Path.of("/models/x.gguf"), c.model());
        assertEquals(KvCacheBudget.ofBytes(2L << 30), c.kvCacheMemory());
        assertEquals(512L << 20, c.swapSpaceBytes());
        assertEquals(KvCache.CacheType.Q8_0, c.kvCacheType());
        assertEquals(List.of("*"), c.corsAllowedOrigins());
        assertFalse(c.prefixCaching());
        assertEquals("0.0.0.0", c.host());
        assertEquals(KvCacheBudget.ofFreeMemory(0.3), load(Map.of(), "--kv-cache-memory", "0.3").kvCacheMemory());
        assertEquals(0, load(Map.of(), "--swap-space", "0").swapSpaceBytes());
        assertEquals(1.5, load(Map.of(), "--batch-slack", "1.5").batchSlack());
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of(List.of("--port", "70000"), "--port must be between 0 and 65535, got 70000"),
                Arguments.of(List.of("--port", "-1"), "--port must be between 0 and 65535, got -1"),
                Arguments.of(List.of("--port", "http"), "--port must be an integer, got 'http'"),
                Arguments.of(List.of("--max-seqs", "0"), "--max-seqs must be between 1 and 65536, got 0"),
                Arguments.of(List.of("--threads", "1.5"), "--threads must be an integer, got '1.5'"),
                Arguments.of(List.of("--block-size", "0"), "--block-size must be between 1 and 1024, got 0"),
                Arguments.of(List.of("--max-request-bytes", "100"), "--max-request-bytes must be between 1024 and"),
                Arguments.of(List.of("--device", "tpu"), "--device must be one of [auto, cpu, gpu], got 'tpu'"),
                Arguments.of(List.of("--kv-cache-type", "q4"), "--kv-cache-type must be one of [f16, q8_0], got 'q4'"),
                Arguments.of(List.of("--enable-prefix-caching", "maybe"), "--enable-prefix-caching must be true or false, got 'maybe'"),
                Arguments.of(List.of("--kv-cache-memory", "lots"), "--kv-cache-memory: not a memory size or fraction: 'lots'"),
                Arguments.of(List.of("--swap-space", "0.5"), "--swap-space must be a size"),
                Arguments.of(List.of("--swap-space", "much"), "--swap-space: not a memory size"),
                Arguments.of(List.of("--batch-slack", "-1"), "--batch-slack must be a number, 0 or more, got -1"),
                Arguments.of(List.of("--bogus", "1"), "unknown option --bogus (see --help)"),
                Arguments.of(List.of("--port"), "--port needs a value"),
                Arguments.of(List.of("--port", "--host", "x"), "--port needs a value"),
                Arguments.of(List.of("model.gguf"), "unexpected argument 'model.gguf'"),
                Arguments.of(List.of("--model", "a.gguf", "--models", "models.yaml"), "--model and --models cannot both be given"));
    }

    @ParameterizedTest
    @MethodSource("badValues")
    void badValuesSayWhichAndWhy(List<String> args, String message) {
        ServerConfig.InvalidConfigException e = assertThrows(ServerConfig.InvalidConfigException.class,
                () -> load(Map.of(), args.toArray(String[]::new)));
        assertTrue(e.getMessage().startsWith(message), () -> "'" + e.getMessage() + "' should start with '" + message + "'");
    }

    @Test
    void badEnvironmentValuesAreReportedToo() {
        ServerConfig.InvalidConfigException e = assertThrows(ServerConfig.InvalidConfigException.class,
                () -> load(Map.of("SLUICE_MAX_SEQS", "many")));
        assertTrue(e.getMessage().contains("max-seqs") && e.getMessage().contains("'many'"), e.getMessage());
    }

    @Test
    void yamlListsAreAccepted() {
        String yaml = "sluice:\n  api-key: [k1, k2]\n  cors-allowed-origins:\n    - https://a.example\n    - https://b.example\n";
        ServerConfig c = ServerConfig.from(Config.builder().disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource().sources(ConfigSources.create(yaml, MediaTypes.APPLICATION_X_YAML)).build());
        assertEquals(List.of("k1", "k2"), c.apiKeys());
        assertEquals(List.of("https://a.example", "https://b.example"), c.corsAllowedOrigins());
        // A flag still overrides a YAML list.
        c = ServerConfig.from(Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                .sources(List.of(ConfigSources.create(Map.of("sluice.api-key", "x, y")),
                        ConfigSources.create(yaml, MediaTypes.APPLICATION_X_YAML))).build());
        assertEquals(List.of("x", "y"), c.apiKeys());
    }

    @Test
    void helpListsEveryOption() {
        assertThrows(Cli.HelpRequested.class, () -> load(Map.of(), "--port", "1", "--help"));
        assertThrows(Cli.HelpRequested.class, () -> load(Map.of(), "-h"));
        String usage = Cli.usage();
        for (Option o : Option.values()) {
            assertTrue(usage.contains("--" + o.flag() + " "), o.flag());
            assertTrue(usage.contains(o.environmentVariable()), o.environmentVariable());
            assertTrue(usage.contains("[" + o.key() + "]"), o.key());
        }
    }
}
