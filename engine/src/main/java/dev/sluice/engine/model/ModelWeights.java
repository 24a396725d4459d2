package dev.sluice.engine.model;

import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.ggml.BackendBuffer;
import dev.sluice.bindings.ggml.GgmlContext;
import dev.sluice.bindings.ggml.Tensor;
import dev.sluice.bindings.gguf.GgufFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A model's weights, ready for graphs. On the CPU backend the GGUF file is memory-mapped and
 * ggml reads the tensors in place (no copy: loading takes milliseconds and the OS page cache is
 * shared between processes); on a GPU backend they are uploaded into one device buffer.
 *
 * <p>Owns the GGUF metadata, the tensor context, the mapping and the buffer. Engine-thread only;
 * {@link #close()} releases them all and is idempotent.
 */
public final class ModelWeights implements AutoCloseable {

    private final ModelConfig config;
    private final GgufFile gguf;
    private final Arena mappingArena;
    private final BackendBuffer buffer;
    private final Tensor tokenEmbedding;
    private final Tensor outputNorm;
    private final Tensor output;
    private final Tensor outputBias;
    private final Tensor ropeFreqs;
    private final List<LayerWeights> layers;
    private final long bytes;
    private boolean closed;

    private ModelWeights(ModelConfig config, GgufFile gguf, Arena mappingArena, BackendBuffer buffer) {
        this.config = config;
        this.gguf = gguf;
        this.mappingArena = mappingArena;
        this.buffer = buffer;
        this.bytes = gguf.tensors().values().stream().mapToLong(GgufFile.TensorInfo::bytes).sum();
        GgmlContext ctx = gguf.tensorContext();
        Lookup t = new Lookup(ctx, config);
        this.tokenEmbedding = t.required("token_embd.weight", config.embeddingLength(), config.vocabSize());
        this.outputNorm = t.required("output_norm.weight", config.embeddingLength());
        this.output = config.tiedEmbeddings() ? tokenEmbedding
                : t.required("output.weight", config.embeddingLength(), config.vocabSize());
        this.outputBias = t.optional("output.bias", config.vocabSize());
        this.ropeFreqs = t.optional("rope_freqs.weight", config.ropeDims() / 2);
        List<LayerWeights> list = new ArrayList<>(config.layers());
        for (int i = 0; i < config.layers(); i++) {
            list.add(t.layer(i));
        }
        this.layers = List.copyOf(list);
    }

    /** Reads only the hyperparameters of the model at {@code path} (its metadata; no tensor data). */
    public static ModelConfig readConfig(Path path) {
        try (GgufFile gguf = GgufFile.open(path, false)) {
            return ModelConfig.from(gguf);
        }
    }

    /**
     * Loads the model at {@code path} for {@code backend}: zero-copy mapping on the CPU, an upload
     * otherwise. Fails with {@link UnsupportedModelException} for architectures or layouts the
     * engine does not run.
     */
    public static ModelWeights load(Path path, Backend backend) {
        GgufFile gguf = GgufFile.open(path, true);
        Arena arena = Arena.ofShared();
        BackendBuffer buffer = null;
        try {
            ModelConfig config = ModelConfig.from(gguf);
            MemorySegment file;
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                file = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            }
            long dataOffset = gguf.dataOffset();
            GgmlContext ctx = gguf.tensorContext();
            if (backend.isCpu()) {
                buffer = BackendBuffer.wrapHost(file);
                for (GgufFile.TensorInfo info : gguf.tensors().values()) {
                    buffer.place(ctx.tensor(info.name()).orElseThrow(), dataOffset + info.offset());
                }
            } else {
                buffer = backend.allocateTensors(ctx);
                for (GgufFile.TensorInfo info : gguf.tensors().values()) {
                    ctx.tensor(info.name()).orElseThrow().write(file.asSlice(dataOffset + info.offset(), info.bytes()), 0);
                }
                arena.close(); // uploaded: the mapping is no longer needed
                arena = null;
            }
            return new ModelWeights(config, gguf, arena, buffer);
        } catch (IOException e) {
            cleanup(gguf, arena, buffer);
            throw new UncheckedIOException("cannot map " + path, e);
        } catch (RuntimeException e) {
            cleanup(gguf, arena, buffer);
            throw e;
        }
    }

    private static void cleanup(GgufFile gguf, Arena arena, BackendBuffer buffer) {
        if (buffer != null) {
            buffer.close();
        }
        if (arena != null) {
            arena.close();
        }
        gguf.close();
    }

    public ModelConfig config() {
        return config;
    }

    /** The GGUF the weights came from (metadata stays readable while the weights are open). */
    public GgufFile gguf() {
        checkOpen();
        return gguf;
    }

    public Tensor tokenEmbedding() {
        return tokenEmbedding;
    }

    public Tensor outputNorm() {
        return outputNorm;
    }

    /** The output projection; the token embedding itself when embeddings are tied. */
    public Tensor output() {
        return output;
    }

    /** Bias added to the logits, or null. */
    public Tensor outputBias() {
        return outputBias;
    }

    /** Per-dimension RoPE frequency factors (Llama 3 scaling), or null. */
    public Tensor ropeFreqs() {
        return ropeFreqs;
    }

    public LayerWeights layer(int i) {
        return layers.get(i);
    }

    /** Bytes of all tensor data, as stored in the file. */
    public long bytes() {
        return bytes;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("ModelWeights are closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        buffer.close();
        if (mappingArena != null) {
            mappingArena.close();
        }
        gguf.close();
    }

    /** Finds tensors by GGUF name and checks their shapes, so a bad file fails at load, not mid-graph. */
    private record Lookup(GgmlContext ctx, ModelConfig c) {

        Tensor required(String name, long... shape) {
            Tensor t = ctx.tensor(name).orElseThrow(() -> new UnsupportedModelException("tensor " + name + " is missing"));
            checkShape(t, name, shape);
            return t;
        }

        Tensor optional(String name, long... shape) {
            Tensor t = ctx.tensor(name).orElse(null);
            if (t != null) {
                checkShape(t, name, shape);
            }
            return t;
        }

        LayerWeights layer(int i) {
            String p = "blk." + i + ".";
            if (ctx.tensor(p + "ffn_gate_inp.weight").isPresent()) {
                throw new UnsupportedModelException("mixture-of-experts layers are not supported");
            }
            if (ctx.tensor(p + "attn_qkv.weight").isPresent()) {
                throw new UnsupportedModelException("fused attn_qkv weights are not supported; convert with separate Q, K and V");
            }
            int e = c.embeddingLength();
            boolean bias = c.architecture().qkvBias();
            boolean norm = c.architecture().qkNorm();
            return new LayerWeights(
                    required(p + "attn_norm.weight", e),
                    required(p + "attn_q.weight", e, c.qDim()),
                    required(p + "attn_k.weight", e, c.kvDim()),
                    required(p + "attn_v.weight", e, c.kvDim()),
                    bias ? required(p + "attn_q.bias", c.qDim()) : optional(p + "attn_q.bias", c.qDim()),
                    bias ? required(p + "attn_k.bias", c.kvDim()) : optional(p + "attn_k.bias", c.kvDim()),
                    bias ? required(p + "attn_v.bias", c.kvDim()) : optional(p + "attn_v.bias", c.kvDim()),
                    norm ? required(p + "attn_q_norm.weight", c.headDim()) : null,
                    norm ? required(p + "attn_k_norm.weight", c.headDim()) : null,
                    required(p + "attn_output.weight", c.qDim(), e),
                    optional(p + "attn_output.bias", e),
                    required(p + "ffn_norm.weight", e),
                    required(p + "ffn_gate.weight", e, c.ffnLength()),
                    required(p + "ffn_up.weight", e, c.ffnLength()),
                    required(p + "ffn_down.weight", c.ffnLength(), e));
        }

        private static void checkShape(Tensor t, String name, long[] expected) {
            long[] actual = t.shape();
            for (int d = 0; d < 4; d++) {
                long want = d < expected.length ? expected[d] : 1;
                if (actual[d] != want) {
                    throw new UnsupportedModelException("tensor " + name + " has shape " + Arrays.toString(actual)
                            + ", expected " + Arrays.toString(expected));
                }
            }
        }
    }
}
