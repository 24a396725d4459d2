package dev.sluice.bindings.llama;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeLibraries;
import dev.sluice.bindings.raw.llama_cpp;
import dev.sluice.bindings.raw.llama_model_params;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A GGUF model loaded by libllama. Sluice's engine loads weights itself; libllama loads models for
 * the tokenizer (vocabulary-only) and for the reference decoder that tests compare against.
 *
 * <p>Not thread-safe. {@link #close()} frees the model and every context created from it; it may
 * be called more than once. Any other call after close throws {@link IllegalStateException}.
 */
public final class LlamaModel implements AutoCloseable {

    private final Path path;
    private final boolean vocabOnly;
    private final List<LlamaContext> contexts = new ArrayList<>();
    private MemorySegment model;
    private final LlamaVocab vocab;

    /**
     * How to load.
     *
     * @param vocabOnly  read only the tokenizer, no weights
     * @param gpuLayers  layers to offload to a GPU backend (0 = CPU only, -1 = all)
     */
    public record Options(boolean vocabOnly, int gpuLayers) {
        public static final Options VOCAB_ONLY = new Options(true, 0);
        public static final Options CPU = new Options(false, 0);
    }

    private LlamaModel(Path path, boolean vocabOnly, MemorySegment model) {
        this.path = path;
        this.vocabOnly = vocabOnly;
        this.model = model;
        this.vocab = new LlamaVocab(this, llama_cpp.llama_model_get_vocab(model));
    }

    public static LlamaModel load(Path path, Options options) {
        NativeLibraries.ensureLoaded();
        if (!Files.isRegularFile(path)) {
            throw new NativeException("model file " + path + " does not exist");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = llama_cpp.llama_model_default_params(arena);
            llama_model_params.vocab_only(params, options.vocabOnly());
            llama_model_params.n_gpu_layers(params, options.gpuLayers());
            MemorySegment model = llama_cpp.llama_model_load_from_file(
                    arena.allocateFrom(path.toAbsolutePath().toString()), params);
            if (model.equals(MemorySegment.NULL)) {
                throw new NativeException("llama.cpp could not load " + path
                        + " (not a GGUF file, or an architecture or version it does not support; see the llama.cpp log)");
            }
            return new LlamaModel(path, options.vocabOnly(), model);
        }
    }

    public static LlamaModel loadVocabOnly(Path path) {
        return load(path, Options.VOCAB_ONLY);
    }

    public Path path() {
        return path;
    }

    public boolean isVocabOnly() {
        return vocabOnly;
    }

    public boolean isOpen() {
        return model != null;
    }

    public LlamaVocab vocab() {
        pointer();
        return vocab;
    }

    public int trainedContextLength() {
        return llama_cpp.llama_model_n_ctx_train(pointer());
    }

    public int embeddingLength() {
        return llama_cpp.llama_model_n_embd(pointer());
    }

    public int layerCount() {
        return llama_cpp.llama_model_n_layer(pointer());
    }

    public long parameterCount() {
        return llama_cpp.llama_model_n_params(pointer());
    }

    /** llama.cpp's short description, e.g. {@code "llama ?B all F32"}. */
    public String description() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            int n = llama_cpp.llama_model_desc(pointer(), buf, buf.byteSize());
            return n < 0 ? "" : buf.getString(0);
        }
    }

    /** A GGUF metadata value rendered as a string, if the key exists. */
    public Optional<String> metadata(String key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocateFrom(key);
            int needed = llama_cpp.llama_model_meta_val_str(pointer(), k, MemorySegment.NULL, 0);
            if (needed < 0) {
                return Optional.empty();
            }
            MemorySegment buf = arena.allocate(needed + 1L);
            llama_cpp.llama_model_meta_val_str(pointer(), k, buf, buf.byteSize());
            return Optional.of(buf.getString(0));
        }
    }

    /** The native {@code llama_model *}; throws once the model is closed. */
    MemorySegment pointer() {
        if (model == null) {
            throw new IllegalStateException("LlamaModel " + path.getFileName() + " is closed");
        }
        return model;
    }

    void register(LlamaContext context) {
        contexts.add(context);
    }

    void unregister(LlamaContext context) {
        contexts.remove(context);
    }

    @Override
    public void close() {
        if (model == null) {
            return;
        }
        for (LlamaContext context : List.copyOf(contexts)) {
            context.close();
        }
        llama_cpp.llama_model_free(model);
        model = null;
    }

    @Override
    public String toString() {
        return "LlamaModel[" + path + (model == null ? ", closed]" : "]");
    }
}
