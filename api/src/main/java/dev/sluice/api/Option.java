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
    MODEL_VERSION("sluice.model-version", "model-version", "1", "Version of --model (clients may pin it as NAME:VERSION)."),
    MODELS("sluice.models", "models", "",
            "YAML file of model versions and routes to serve (several models, canaries, shadows); instead of --model."),
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
    MAX_REQUEST_SHARE("sluice.max-request-share", "max-request-share", "0.25",
            "Share (0 to 1] of --max-seqs one request's choices get, and of --max-batched-tokens a long prompt's chunk gets (prompts up to twice that are taken whole), while other requests wait."),
    MAX_PROMPT_CHUNK("sluice.max-prompt-chunk", "max-prompt-chunk", "512",
            "Most tokens of one prompt an engine step computes: longer prompts are prefilled in chunks of this size (as llama.cpp's 512-token micro-batches)."),
    MAX_QUEUED_REQUESTS("sluice.max-queued-requests", "max-queued-requests", "1024",
            "Requests admitted (running or queued) before new ones get 429 Too Many Requests."),
    MAX_RESPONSE_TOKENS("sluice.max-response-tokens", "max-response-tokens", "262144",
            "Largest answer one request may ask for: choices (prompts x n) x max_tokens x (1 + top_logprobs); larger gets 400."),
    REQUEST_TIMEOUT("sluice.request-timeout", "request-timeout", "600",
            "Seconds a request may take from arrival; then it ends with finish_reason length, keeping its output. 0 = no limit."),
    STALLED_CLIENT_TIMEOUT("sluice.stalled-client-timeout", "stalled-client-timeout", "30",
            "Seconds a client may leave its output unread before its request is cancelled (until then it is paused, and preempted first)."),
    ENABLE_REQUEST_PRIORITY("sluice.enable-request-priority", "enable-request-priority", "false",
            "Honour the request field priority (lower runs first); when off, a non-zero priority gets 400."),
    HTTP_READ_TIMEOUT("sluice.http-read-timeout", "http-read-timeout", "10",
            "Seconds a request's headers may take, and a body may wait for its next bytes (plus 1 s per 100 KiB in all), before the connection is closed."),
    HTTP_IDLE_TIMEOUT("sluice.http-idle-timeout", "http-idle-timeout", "10",
            "Seconds a keep-alive connection may stay idle between requests before it is closed (every response says so: Keep-Alive: timeout=N)."),
    ENGINE_STALL_TIMEOUT("sluice.engine-stall-timeout", "engine-stall-timeout", "120",
            "Seconds one engine step may run before GET /health/live reports the engine stuck (503)."),
    MAX_REQUEST_BYTES("sluice.max-request-bytes", "max-request-bytes", "16777216", "Largest request body; larger ones get 413."),
    API_KEY("sluice.api-key", "api-key", "", "Comma-separated API keys; when set, every endpoint but /health, /health/live and /health/ready requires Authorization: Bearer KEY."),
    ADMIN_API_KEY("sluice.admin-api-key", "admin-api-key", "",
            "Comma-separated keys for the admin API (/admin/: load and unload model versions, change routes); empty: admin API off."),
    CORS_ALLOWED_ORIGINS("sluice.cors-allowed-origins", "cors-allowed-origins", "",
            "Comma-separated origins allowed by CORS (or *) for browser frontends; empty: CORS off."),
    SHUTDOWN_DRAIN_SECONDS("sluice.shutdown-drain-seconds", "shutdown-drain-seconds", "30",
            "On SIGTERM: seconds to let in-flight requests finish before cancelling them."),
    DATA_DIR("sluice.data-dir", "data-dir", "",
            "Directory of the Files and Batch API's state (a SQLite database and the files). Empty: $XDG_DATA_HOME/sluice, else ~/.local/share/sluice."),
    MAX_FILE_BYTES("sluice.max-file-bytes", "max-file-bytes", "209715200",
            "Largest file POST /v1/files accepts (apart from --max-request-bytes); larger ones get 413."),
    BATCH_MAX_IN_FLIGHT("sluice.batch-max-in-flight", "batch-max-in-flight", "16",
            "Batch lines running at once (at a priority behind every client request, apart from --max-queued-requests)."),
    BATCH_SLACK("sluice.batch-slack", "batch-slack", "0.3",
            "How much longer (a fraction) batch lines may make an engine step that has client requests in it, by the engine's measured step cost (never a client's first-token step). On 2 CPU cores beside four busy chats, 0.3 gives a batch ~30% of its rate alone at 1.5x the chats' time per token; 1.5 gives it ~80% at ~3x."),
    COST_PER_HOUR("sluice.cost-per-hour", "cost-per-hour", "0",
            "Price of this machine per hour (any currency); when above 0, batches and /metrics give the cost of their engine time, in all and per million tokens."),
    RESPONSES_MAX_STORED("sluice.responses-max-stored", "responses-max-stored", "1000",
            "Most stored /v1/responses responses (for GET and previous_response_id), in memory; the least recently used go first. 0 = store none."),
    RESPONSES_MAX_AGE("sluice.responses-max-age", "responses-max-age", "86400",
            "Seconds a stored /v1/responses response is kept."),
    RESPONSES_MAX_STORED_BYTES("sluice.responses-max-stored-bytes", "responses-max-stored-bytes", "268435456",
            "Most memory (their JSON's length) stored /v1/responses responses take in all; the least recently used go first."),
    MAX_EMBEDDING_INPUTS("sluice.max-embedding-inputs", "max-embedding-inputs", "2048",
            "Most inputs one POST /v1/embeddings may carry (as OpenAI); more get 400."),
    MAX_EMBEDDING_TOKENS("sluice.max-embedding-tokens", "max-embedding-tokens", "300000",
            "Most tokens in all of one POST /v1/embeddings' inputs (as OpenAI); more get 400.");

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
