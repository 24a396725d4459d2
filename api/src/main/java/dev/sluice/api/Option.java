package dev.sluice.api;

import java.util.Locale;

/**
 * Every server option: its config key (in {@code application.yaml}), CLI flag
 * ({@code --<flag> VALUE} or {@code --<flag>=VALUE}), environment variable, default and meaning.
 * The single source for {@code --help} and the README's option table.
 */
public enum Option {
    HOST("server.host", "host", "127.0.0.1", "Address to listen on (0.0.0.0 for all interfaces)."),
    PORT("server.port", "port", "8080", "Port to listen on (0 picks a free one)."),
    MODEL("sluice.model", "model", "", "Path of the GGUF model to serve. Empty: a generated demo model with random weights."),
    MODEL_NAME("sluice.model-name", "model-name", "", "Model id clients use; default: the file name without .gguf."),
    DEMO_PRESET("sluice.demo-preset", "demo-preset", "smollm2-135m-shape",
            "Shape of the demo model when no --model is given (tiny-llama, tiny-qwen2, tiny-qwen3, smollm2-135m-shape, qwen2.5-0.5b-shape)."),
    DEVICE("sluice.device", "device", "auto", "Compute backend: auto (GPU when present), cpu or gpu."),
    THREADS("sluice.threads", "threads", "0",
            "CPU threads for compute; 0 = the physical cores this process may use (affinity, cgroup CPU quota). Fewer are used while the host is too busy to run them all."),
    KV_CACHE_MEMORY("sluice.kv-cache-memory", "kv-cache-memory", "",
            "KV cache size: bytes with a K/M/G suffix (e.g. 2GiB) or a fraction of free memory (e.g. 0.3). Empty: min(4 GiB, 25% of free RAM) on CPU, 85% of free GPU memory."),
    KV_CACHE_TOKENS("sluice.kv-cache-tokens", "kv-cache-tokens", "0",
            "KV cache size in tokens shared by all requests, like llama.cpp's -c; when set it replaces --kv-cache-memory."),
    KV_CACHE_TYPE("sluice.kv-cache-type", "kv-cache-type", "f16", "KV cache element type: f16 or q8_0."),
    BLOCK_SIZE("sluice.block-size", "block-size", "16", "Tokens per KV cache block."),
    SWAP_SPACE("sluice.swap-space", "swap-space", "0",
            "Host memory for swapping out preempted sequences (e.g. 1GiB); 0 = recompute them instead."),
    MAX_MODEL_LEN("sluice.max-model-len", "max-model-len", "0", "Longest prompt + completion in tokens; 0 = the model's trained context."),
    MAX_BATCHED_TOKENS("sluice.max-batched-tokens", "max-batched-tokens", "2048", "Token budget of one engine step (decode tokens + prefill chunks)."),
    MAX_SEQS("sluice.max-seqs", "max-seqs", "256", "Most sequences in one engine step."),
    ENABLE_PREFIX_CACHING("sluice.enable-prefix-caching", "enable-prefix-caching", "true", "Reuse KV of identical prompt prefixes across requests."),
    MAX_QUEUED_REQUESTS("sluice.max-queued-requests", "max-queued-requests", "1024",
            "Requests admitted (running or queued) before new ones get 429 Too Many Requests."),
    MAX_REQUEST_BYTES("sluice.max-request-bytes", "max-request-bytes", "16777216", "Largest request body; larger ones get 413."),
    API_KEY("sluice.api-key", "api-key", "", "Comma-separated API keys; when set, every endpoint but /health requires Authorization: Bearer KEY."),
    CORS_ALLOWED_ORIGINS("sluice.cors-allowed-origins", "cors-allowed-origins", "",
            "Comma-separated origins allowed by CORS (or *) for browser frontends; empty: CORS off."),
    SHUTDOWN_DRAIN_SECONDS("sluice.shutdown-drain-seconds", "shutdown-drain-seconds", "30",
            "On SIGTERM: seconds to let in-flight requests finish before cancelling them.");

    private final String key;
    private final String flag;
    private final String defaultValue;
    private final String description;

    Option(String key, String flag, String defaultValue, String description) {
        this.key = key;
        this.flag = flag;
        this.defaultValue = defaultValue;
        this.description = description;
    }

    public String key() {
        return key;
    }

    public String flag() {
        return flag;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    /** {@code SLUICE_MAX_SEQS}, {@code SLUICE_PORT}, … */
    public String environmentVariable() {
        return "SLUICE_" + flag.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    public static Option byFlag(String flag) {
        for (Option o : values()) {
            if (o.flag.equals(flag)) {
                return o;
            }
        }
        return null;
    }
}
