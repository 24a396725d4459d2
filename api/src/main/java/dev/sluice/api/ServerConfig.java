package dev.sluice.api;

import dev.sluice.engine.Engine;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.kv.KvCacheBudget;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The server's settings, from (highest priority first) CLI flags, {@code SLUICE_*} environment
 * variables, Java system properties, and {@code application.yaml} on the class path. See
 * {@link Option} for every key.
 */
public record ServerConfig(String host, int port, Path model, String modelName, String modelVersion, Path models,
                           String demoPreset, Engine.Device device,
                           int threads, KvCacheBudget kvCacheMemory, int kvCacheTokens, KvCache.CacheType kvCacheType,
                           int blockSize,
                           long swapSpaceBytes, int maxModelLen, int maxBatchedTokens, int maxSeqs,
                           boolean prefixCaching, double maxRequestShare, int maxPromptChunk, int maxQueuedRequests, long maxResponseTokens,
                           int requestTimeoutSeconds, int stalledClientTimeoutSeconds, boolean enableRequestPriority,
                           int httpReadTimeoutSeconds, int httpIdleTimeoutSeconds, int engineStallTimeoutSeconds,
                           long maxRequestBytes, List<String> apiKeys, List<String> adminApiKeys,
                           List<String> corsAllowedOrigins, int shutdownDrainSeconds,
                           Path dataDir, long maxFileBytes, int batchMaxInFlight, double batchSlack, double costPerHour,
                           int responsesMaxStored, int responsesMaxAgeSeconds, long responsesMaxStoredBytes,
                           int maxEmbeddingInputs, long maxEmbeddingTokens) {

    /** Thrown for unusable settings; the message says which and why. */
    public static final class InvalidConfigException extends RuntimeException {
        InvalidConfigException(String message) {
            super(message);
        }
    }

    public static ServerConfig load(String[] args, Map<String, String> environment) {
        Map<String, String> cli = Cli.parse(args);
        Map<String, String> env = new HashMap<>();
        for (Option o : Option.values()) {
            String value = environment.get(o.environmentVariable());
            if (value != null) {
                env.put(o.key(), value);
            }
        }
        Config config = Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .sources(List.of(ConfigSources.create(cli), ConfigSources.create(env), ConfigSources.systemProperties(),
                        ConfigSources.classpath("application.yaml").optional()))
                .build();
        return from(config);
    }

    static ServerConfig from(Config config) {
        Reader r = new Reader(config);
        String model = r.string(Option.MODEL);
        String models = r.string(Option.MODELS);
        if (!model.isBlank() && !models.isBlank()) {
            throw new InvalidConfigException("--model and --models cannot both be given: list the model in the --models file");
        }
        String kv = r.string(Option.KV_CACHE_MEMORY);
        String swap = r.string(Option.SWAP_SPACE);
        return new ServerConfig(
                r.string(Option.HOST),
                r.integer(Option.PORT, 0, 65535),
                model.isBlank() ? null : Path.of(model),
                r.string(Option.MODEL_NAME),
                r.string(Option.MODEL_VERSION),
                models.isBlank() ? null : Path.of(models),
                r.string(Option.DEMO_PRESET),
                r.choice(Option.DEVICE, Engine.Device.class),
                r.integer(Option.THREADS, 0, 4096),
                kv.isBlank() ? null : r.budget(Option.KV_CACHE_MEMORY, kv),
                r.integer(Option.KV_CACHE_TOKENS, 0, Integer.MAX_VALUE),
                r.choice(Option.KV_CACHE_TYPE, KvCache.CacheType.class),
                r.integer(Option.BLOCK_SIZE, 1, 1024),
                swap.isBlank() || swap.equals("0") ? 0 : r.size(Option.SWAP_SPACE, swap),
                r.integer(Option.MAX_MODEL_LEN, 0, Integer.MAX_VALUE),
                r.integer(Option.MAX_BATCHED_TOKENS, 1, Integer.MAX_VALUE),
                r.integer(Option.MAX_SEQS, 1, 65536),
                r.bool(Option.ENABLE_PREFIX_CACHING),
                r.fraction(Option.MAX_REQUEST_SHARE),
                r.integer(Option.MAX_PROMPT_CHUNK, 1, Integer.MAX_VALUE),
                r.integer(Option.MAX_QUEUED_REQUESTS, 1, Integer.MAX_VALUE),
                r.integer(Option.MAX_RESPONSE_TOKENS, 1, Integer.MAX_VALUE),
                r.integer(Option.REQUEST_TIMEOUT, 0, 7 * 86400),
                r.integer(Option.STALLED_CLIENT_TIMEOUT, 1, 86400),
                r.bool(Option.ENABLE_REQUEST_PRIORITY),
                r.integer(Option.HTTP_READ_TIMEOUT, 1, 86400),
                r.integer(Option.HTTP_IDLE_TIMEOUT, 1, 86400),
                r.integer(Option.ENGINE_STALL_TIMEOUT, 1, 86400),
                r.integer(Option.MAX_REQUEST_BYTES, 1024, Integer.MAX_VALUE),
                r.list(Option.API_KEY),
                r.list(Option.ADMIN_API_KEY),
                r.list(Option.CORS_ALLOWED_ORIGINS),
                r.integer(Option.SHUTDOWN_DRAIN_SECONDS, 0, 86400),
                dataDir(r.string(Option.DATA_DIR)),
                r.size(Option.MAX_FILE_BYTES, r.string(Option.MAX_FILE_BYTES)),
                r.integer(Option.BATCH_MAX_IN_FLIGHT, 1, 65536),
                r.nonNegative(Option.BATCH_SLACK),
                r.nonNegative(Option.COST_PER_HOUR),
                r.integer(Option.RESPONSES_MAX_STORED, 0, 10_000_000),
                r.integer(Option.RESPONSES_MAX_AGE, 1, Integer.MAX_VALUE),
                r.size(Option.RESPONSES_MAX_STORED_BYTES, r.string(Option.RESPONSES_MAX_STORED_BYTES)),
                r.integer(Option.MAX_EMBEDDING_INPUTS, 1, 1_000_000),
                r.integer(Option.MAX_EMBEDDING_TOKENS, 1, Integer.MAX_VALUE));
    }

    /** {@code --data-dir}, else the user's data directory (XDG's, as on Linux desktops and servers). */
    static Path dataDir(String option) {
        if (!option.isBlank()) {
            return Path.of(option);
        }
        String xdg = System.getenv("XDG_DATA_HOME");
        return xdg != null && !xdg.isBlank() ? Path.of(xdg, "sluice")
                : Path.of(System.getProperty("user.home"), ".local", "share", "sluice");
    }

    /** Typed reads with messages that name the option. */
    private record Reader(Config config) {

        String string(Option o) {
            return config.get(o.key()).asString().orElse(o.defaultValue()).strip();
        }

        int integer(Option o, int min, int max) {
            String value = string(o);
            try {
                int v = Integer.parseInt(value);
                if (v < min || v > max) {
                    throw new InvalidConfigException("--" + o.flag() + " must be between " + min + " and " + max + ", got " + v);
                }
                return v;
            } catch (NumberFormatException e) {
                throw new InvalidConfigException("--" + o.flag() + " must be an integer, got '" + value + "'");
            }
        }

        /** A number in (0, 1]. */
        double fraction(Option o) {
            String value = string(o);
            try {
                double v = Double.parseDouble(value);
                if (!(v > 0 && v <= 1)) {
                    throw new InvalidConfigException("--" + o.flag() + " must be greater than 0 and at most 1, got " + value);
                }
                return v;
            } catch (NumberFormatException e) {
                throw new InvalidConfigException("--" + o.flag() + " must be a number, got '" + value + "'");
            }
        }

        /** A finite number, 0 or more. */
        double nonNegative(Option o) {
            String value = string(o);
            try {
                double v = Double.parseDouble(value);
                if (!(v >= 0) || Double.isInfinite(v)) {
                    throw new InvalidConfigException("--" + o.flag() + " must be a number, 0 or more, got " + value);
                }
                return v;
            } catch (NumberFormatException e) {
                throw new InvalidConfigException("--" + o.flag() + " must be a number, got '" + value + "'");
            }
        }

        boolean bool(Option o) {
            String value = string(o).toLowerCase(Locale.ROOT);
            return switch (value) {
                case "true", "1", "yes", "on" -> true;
                case "false", "0", "no", "off" -> false;
                default -> throw new InvalidConfigException("--" + o.flag() + " must be true or false, got '" + value + "'");
            };
        }

        <E extends Enum<E>> E choice(Option o, Class<E> type) {
            String value = string(o);
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(value)) {
                    return e;
                }
            }
            throw new InvalidConfigException("--" + o.flag() + " must be one of "
                    + Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList() + ", got '" + value + "'");
        }

        KvCacheBudget budget(Option o, String value) {
            try {
                return KvCacheBudget.parse(value);
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException("--" + o.flag() + ": " + e.getMessage());
            }
        }

        /** A size in bytes: a fraction of free memory makes no sense here. */
        long size(Option o, String value) {
            KvCacheBudget budget = budget(o, value);
            if (budget.bytes() <= 0) {
                throw new InvalidConfigException("--" + o.flag() + " must be a size such as 1GiB, got '" + value + "'");
            }
            return budget.bytes();
        }

        /**
         * Comma-separated in one string (flags, variables, YAML), or a YAML list. A string from a
         * higher source wins over a YAML list: the merged node then has both.
         */
        List<String> list(Option o) {
            Config node = config.get(o.key());
            List<String> items = node.isList() && node.asString().isEmpty() ? node.asList(String.class).get()
                    : List.of(string(o).split(","));
            return items.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        }
    }
}
