package dev.sluice.engine;

import dev.sluice.bindings.CpuAllowance;
import dev.sluice.bindings.SystemInfo;
import dev.sluice.bindings.ggml.Backend;
import dev.sluice.engine.chat.ChatTemplate;
import dev.sluice.engine.kv.HostSwapArea;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.kv.KvCacheBudget;
import dev.sluice.engine.model.ModelConfig;
import dev.sluice.engine.model.ModelWeights;
import dev.sluice.engine.runner.ModelRunner;
import dev.sluice.engine.sampling.SamplingWorkspace;
import dev.sluice.engine.text.Tokenizer;

import java.nio.file.Path;

/**
 * A loaded model ready to serve: weights on a backend, the paged KV cache sized from a memory
 * budget, the runner, the tokenizer and chat template. One owner, one {@link #close()} that frees
 * everything in reverse order of creation.
 *
 * <p>The runner, KV cache, swap area and samplers are engine-thread objects; the tokenizer and
 * chat template may be used from any thread.
 */
public final class Engine implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Engine.class.getName());
    private static final long DEFAULT_CPU_KV_CAP = 4L << 30;

    /** Which backend computes. */
    public enum Device { AUTO, CPU, GPU }

    /**
     * @param threads        CPU threads for compute (default: {@link CpuAllowance#defaultThreads()}: the
     *                       physical cores this process may use, within its affinity and CPU quota)
     * @param kvBudget       KV pool memory; null for the default (CPU: the smaller of 4 GiB and a
     *                       quarter of available memory; GPU: 85% of free device memory)
     * @param kvTokens       KV pool size in tokens instead (as llama.cpp's {@code -c}); 0 to use kvBudget
     * @param blockSize      tokens per KV block
     * @param swapBytes      host memory for preempted sequences' blocks (0: recompute instead)
     * @param maxModelLength longest sequence served; 0 for the model's trained context
     * @param chatTemplate   a Jinja chat template (or a libllama built-in name) to use instead of the
     *                       GGUF's own; null for the GGUF's
     * @param adaptiveThreads compute on fewer of the threads while the host is too busy to run
     *                       them all, probing back up when it calms (default: on, unless the system
     *                       property {@value #ADAPTIVE_THREADS_PROPERTY} is {@code false}; see
     *                       {@link dev.sluice.engine.runner.ThreadGovernor})
     */
    public record Options(Path model, Device device, int threads, KvCacheBudget kvBudget, int kvTokens, int blockSize,
                          KvCache.CacheType cacheType, long swapBytes, int maxModelLength, String chatTemplate,
                          boolean adaptiveThreads) {

        /** System property that turns {@code adaptiveThreads} off by default, to measure what it does. */
        public static final String ADAPTIVE_THREADS_PROPERTY = "sluice.adaptive-threads";

        public static Options defaults(Path model) {
            boolean adaptive = !"false".equalsIgnoreCase(System.getProperty(ADAPTIVE_THREADS_PROPERTY, "true").strip());
            return new Options(model, Device.AUTO, CpuAllowance.detect().defaultThreads(), null, 0, 16,
                    KvCache.CacheType.F16, 0, 0, null, adaptive);
        }

        public Options withChatTemplate(String template) {
            return new Options(model, device, threads, kvBudget, kvTokens, blockSize, cacheType, swapBytes, maxModelLength, template, adaptiveThreads);
        }

        public Options withKvBudget(KvCacheBudget budget) {
            return new Options(model, device, threads, budget, kvTokens, blockSize, cacheType, swapBytes, maxModelLength, chatTemplate, adaptiveThreads);
        }

        public Options withKvTokens(int tokens) {
            return new Options(model, device, threads, kvBudget, tokens, blockSize, cacheType, swapBytes, maxModelLength, chatTemplate, adaptiveThreads);
        }

        public Options withThreads(int n) {
            return new Options(model, device, n, kvBudget, kvTokens, blockSize, cacheType, swapBytes, maxModelLength, chatTemplate, adaptiveThreads);
        }

        public Options withBlockSize(int n) {
            return new Options(model, device, threads, kvBudget, kvTokens, n, cacheType, swapBytes, maxModelLength, chatTemplate, adaptiveThreads);
        }

        public Options withSwapBytes(long bytes) {
            return new Options(model, device, threads, kvBudget, kvTokens, blockSize, cacheType, bytes, maxModelLength, chatTemplate, adaptiveThreads);
        }

        public Options withMaxModelLength(int tokens) {
            return new Options(model, device, threads, kvBudget, kvTokens, blockSize, cacheType, swapBytes, tokens, chatTemplate, adaptiveThreads);
        }

        public Options withDevice(Device d) {
            return new Options(model, d, threads, kvBudget, kvTokens, blockSize, cacheType, swapBytes, maxModelLength, chatTemplate, adaptiveThreads);
        }

        public Options withAdaptiveThreads(boolean adaptive) {
            return new Options(model, device, threads, kvBudget, kvTokens, blockSize, cacheType, swapBytes, maxModelLength, chatTemplate, adaptive);
        }

        public Options withCacheType(KvCache.CacheType type) {
            return new Options(model, device, threads, kvBudget, kvTokens, blockSize, type, swapBytes, maxModelLength, chatTemplate, adaptiveThreads);
        }
    }

    private final Options options;
    private final Backend backend;
    private final ModelWeights weights;
    private final KvCache kvCache;
    private final HostSwapArea swapArea;
    private final ModelRunner runner;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final int maxModelLength;
    private boolean closed;

    private Engine(Options options, Backend backend, ModelWeights weights, KvCache kvCache, HostSwapArea swapArea,
                   ModelRunner runner, Tokenizer tokenizer, ChatTemplate chatTemplate, int maxModelLength) {
        this.options = options;
        this.backend = backend;
        this.weights = weights;
        this.kvCache = kvCache;
        this.swapArea = swapArea;
        this.runner = runner;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.maxModelLength = maxModelLength;
    }

    /**
     * The longest sequence served: {@code --max-model-len}, else the model's trained context, but
     * never more than the KV pool holds, since one sequence longer than the pool could never run.
     * An explicit length the pool cannot hold is a configuration error; a trained context it
     * cannot hold is fitted to the pool with a warning (as vLLM does).
     */
    static int fitMaxModelLength(Options options, int trained, long kvTokens) {
        if (options.maxModelLength() > 0) {
            if (options.maxModelLength() > kvTokens) {
                throw new IllegalArgumentException("--max-model-len " + options.maxModelLength()
                        + " is more than the KV cache holds (" + kvTokens + " tokens): raise --kv-cache-memory or "
                        + "--kv-cache-tokens, or lower --max-model-len");
            }
            return options.maxModelLength();
        }
        if (trained > kvTokens) {
            LOG.log(System.Logger.Level.WARNING, "the model's trained context is " + trained + " tokens but the KV cache "
                    + "holds " + kvTokens + ": serving at most " + kvTokens + " tokens per sequence (raise "
                    + "--kv-cache-memory to serve more, or set --max-model-len)");
            return (int) kvTokens;
        }
        return trained;
    }

    /** Loads the model and sizes the KV pool; fails with a clear message for unsupported files. */
    public static Engine load(Options options) {
        if (options.blockSize() <= 0 || options.threads() <= 0) {
            throw new IllegalArgumentException("block size and threads must be positive");
        }
        Backend backend = switch (options.device()) {
            case CPU -> Backend.cpu(options.threads());
            case AUTO -> Backend.best(options.threads());
            case GPU -> {
                Backend b = Backend.best(options.threads());
                if (b.isCpu()) {
                    b.close();
                    throw new IllegalStateException("no GPU backend is available (build llama.cpp with --cuda on a GPU machine)");
                }
                yield b;
            }
        };
        ModelWeights weights = null;
        KvCache kv = null;
        HostSwapArea swap = null;
        ModelRunner runner = null;
        Tokenizer tokenizer = null;
        try {
            long start = System.nanoTime();
            ModelConfig config = ModelWeights.readConfig(options.model());
            long budget = kvBudgetBytes(options, backend);
            int blocks = options.kvTokens() > 0
                    ? (int) ((options.kvTokens() + (long) options.blockSize() - 1) / options.blockSize())
                    : KvCache.blocksForBudget(config, options.cacheType(), options.blockSize(), budget);
            if (blocks < 1) {
                throw new IllegalArgumentException("a KV budget of " + budget + " bytes holds not one block of "
                        + options.blockSize() + " tokens (" + KvCache.bytesPerToken(config, options.cacheType())
                        + " bytes per token)");
            }
            int maxModelLength = fitMaxModelLength(options, config.contextLength(), (long) blocks * options.blockSize());
            requireMemory(options, backend, config, (long) blocks * options.blockSize());
            weights = ModelWeights.load(options.model(), backend);
            kv = new KvCache(config, backend, options.blockSize(), blocks, options.cacheType());
            swap = new HostSwapArea(kv, HostSwapArea.slotsForBudget(kv, options.swapBytes()));
            runner = new ModelRunner(weights, kv, backend, options.adaptiveThreads());
            tokenizer = Tokenizer.open(options.model());
            ChatTemplate template = options.chatTemplate() != null
                    ? ChatTemplate.of(options.chatTemplate(), ChatTemplate.SpecialTokens.of(tokenizer))
                    : ChatTemplate.forTokenizer(tokenizer);
            LOG.log(System.Logger.Level.INFO, String.format(
                    "loaded %s (%s, %d layers, %.1f MB of weights) on %s%s in %d ms; KV cache: %d blocks of %d = %d tokens"
                            + " (%.1f MB, %s); max model length %d (trained context %d); chat template: %s",
                    config.name(), config.architecture(), config.layers(), weights.bytes() / 1e6, backend.name(),
                    !backend.isCpu() ? "" : " with " + backend.maxThreads() + " compute thread" + (backend.maxThreads() == 1 ? "" : "s")
                            + (options.adaptiveThreads() && backend.maxThreads() > 1 ? " (fewer while the host is busy)" : ""),
                    (System.nanoTime() - start) / 1_000_000, blocks, options.blockSize(), kv.slots(), kv.bytes() / 1e6,
                    options.cacheType(), maxModelLength, config.contextLength(), template));
            return new Engine(options, backend, weights, kv, swap, runner, tokenizer, template, maxModelLength);
        } catch (RuntimeException e) {
            for (AutoCloseable c : new AutoCloseable[] {tokenizer, runner, swap, kv, weights, backend}) {
                if (c != null) {
                    try {
                        c.close();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
            }
            throw e;
        }
    }

    /** Refused at load: the model cannot serve even one full-length sequence in the memory left. */
    public static final class InsufficientMemoryException extends IllegalStateException {
        InsufficientMemoryException(String message) {
            super(message);
        }
    }

    /**
     * Refuses to load when the weights plus the KV pool do not fit in the memory available now
     * (RAM, or the GPU's free memory). Both are committed lazily (mmapped weights, untouched pool
     * pages), so without this a model that cannot fit loads "fine" and fails later, under traffic.
     */
    private static void requireMemory(Options options, Backend backend, ModelConfig config, long kvTokens) {
        long weights;
        try {
            weights = java.nio.file.Files.size(options.model());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        long kv = KvCache.bytesPerToken(config, options.cacheType()) * kvTokens;
        long available = backend.isCpu() ? KvCacheBudget.availableHostMemory() : freeDeviceMemory();
        if (weights + kv > available) {
            throw new InsufficientMemoryException(String.format("%s does not fit: it needs %.1f MB of weights plus %.1f MB"
                    + " of KV cache (%d tokens), %.1f MB in all, and %.1f MB of %s memory are available. Lower"
                    + " --kv-cache-memory or --kv-cache-tokens, use --kv-cache-type q8_0, or unload another model first.",
                    options.model().getFileName(), weights / 1e6, kv / 1e6, kvTokens, (weights + kv) / 1e6,
                    available / 1e6, backend.isCpu() ? "host" : "device"));
        }
    }

    private static long kvBudgetBytes(Options options, Backend backend) {
        if (options.kvBudget() != null) {
            long free = backend.isCpu() ? KvCacheBudget.availableHostMemory() : freeDeviceMemory();
            return options.kvBudget().resolve(free);
        }
        if (backend.isCpu()) {
            return Math.min(DEFAULT_CPU_KV_CAP, KvCacheBudget.availableHostMemory() / 4);
        }
        return (long) (freeDeviceMemory() * 0.85);
    }

    private static long freeDeviceMemory() {
        return SystemInfo.devices().stream()
                .filter(d -> d.type() == SystemInfo.DeviceType.GPU)
                .mapToLong(SystemInfo.BackendDevice::freeBytes)
                .findFirst().orElse(0);
    }

    public Options options() {
        return options;
    }

    public ModelConfig config() {
        return weights.config();
    }

    /** Bytes of the model's weights (mapped or on the device); any thread. */
    public long weightsBytes() {
        return weights.bytes();
    }

    public Backend backend() {
        return backend;
    }

    public ModelRunner runner() {
        return runner;
    }

    public KvCache kvCache() {
        return kvCache;
    }

    public HostSwapArea swapArea() {
        return swapArea;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    /** Longest sequence (prompt + output) this engine serves. */
    public int maxModelLength() {
        return maxModelLength;
    }

    /** The samplers' shared buffer; create and use it on the engine thread. */
    public SamplingWorkspace newSamplingWorkspace() {
        return new SamplingWorkspace(tokenizer.vocab(), tokenizer.texts());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        runner.close();
        swapArea.close();
        kvCache.close();
        weights.close();
        backend.close();
        tokenizer.close();
    }
}
