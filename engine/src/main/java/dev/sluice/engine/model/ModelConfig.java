package dev.sluice.engine.model;

import dev.sluice.bindings.gguf.GgufFile;

import java.util.Locale;

/**
 * A model's hyperparameters, read from the architecture-prefixed GGUF metadata keys with the
 * defaults llama.cpp applies when a key is absent.
 *
 * @param headDim       per-head size of Q and K (and V: the supported families use one size)
 * @param ropeDims      how many dimensions of each head RoPE rotates
 * @param tiedEmbeddings whether the output projection reuses the token embedding matrix
 * @param pooling       how embeddings pool the hidden states ({@code <arch>.pooling_type}; none when absent)
 */
public record ModelConfig(
        Architecture architecture,
        String name,
        int embeddingLength,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ffnLength,
        int vocabSize,
        int contextLength,
        float rmsEps,
        float ropeFreqBase,
        int ropeDims,
        RopeScaling ropeScaling,
        boolean tiedEmbeddings,
        Pooling pooling) {

    public ModelConfig {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new UnsupportedModelException("attention heads (" + heads + ") must be a positive multiple of KV heads (" + kvHeads + ")");
        }
    }

    /** Width of one token's K (or V) across all KV heads. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Width of the attention output before the output projection. */
    public int qDim() {
        return heads * headDim;
    }

    public static ModelConfig from(GgufFile gguf) {
        String archName = gguf.string("general.architecture")
                .orElseThrow(() -> new UnsupportedModelException(gguf.path() + " has no general.architecture"));
        Architecture arch = Architecture.fromGguf(archName);
        Keys k = new Keys(gguf, archName);

        int embedding = k.requiredInt("embedding_length");
        int layers = k.requiredInt("block_count");
        int heads = k.requiredInt("attention.head_count");
        int kvHeads = k.optionalInt("attention.head_count_kv", heads);
        int headDim = k.optionalInt("attention.key_length", embedding / heads);
        int valueDim = k.optionalInt("attention.value_length", embedding / heads);
        if (valueDim != headDim) {
            throw new UnsupportedModelException("different K and V head sizes (" + headDim + ", " + valueDim + ") are not supported");
        }
        int contextLength = k.requiredInt("context_length");
        int ropeDims = k.optionalInt("rope.dimension_count", headDim);
        if (ropeDims != headDim && arch == Architecture.LLAMA) {
            throw new UnsupportedModelException("llama models rotate whole heads, but rope.dimension_count is " + ropeDims);
        }
        int vocab = k.optionalInt("vocab_size", -1);
        if (vocab < 0) {
            vocab = (int) gguf.arrayLength("tokenizer.ggml.tokens")
                    .orElseThrow(() -> new UnsupportedModelException(gguf.path() + " has neither "
                            + archName + ".vocab_size nor tokenizer.ggml.tokens"));
        }

        String scalingName = k.optionalString("rope.scaling.type", "none").toLowerCase(Locale.ROOT);
        float factor = (float) k.optionalNumber("rope.scaling.factor", k.optionalNumber("rope.scale_linear", 0));
        int originalContext = k.optionalInt("rope.scaling.original_context_length", contextLength);
        float attnFactor = (float) k.optionalNumber("rope.scaling.attn_factor", 1);
        RopeScaling.Type scalingType = switch (scalingName) {
            case "none" -> RopeScaling.Type.NONE;
            case "linear" -> RopeScaling.Type.LINEAR;
            case "yarn" -> RopeScaling.Type.YARN;
            default -> throw new UnsupportedModelException("RoPE scaling '" + scalingName + "' is not supported");
        };
        if (scalingType == RopeScaling.Type.LINEAR && factor == 0f) {
            scalingType = RopeScaling.Type.NONE;
        }

        boolean tied = gguf.tensor("output.weight").isEmpty();
        return new ModelConfig(arch,
                gguf.string("general.name").orElse(gguf.path().getFileName().toString()),
                embedding, layers, heads, kvHeads, headDim,
                k.requiredInt("feed_forward_length"), vocab, contextLength,
                (float) k.requiredNumber("attention.layer_norm_rms_epsilon"),
                (float) k.optionalNumber("rope.freq_base", 10000.0),
                ropeDims,
                new RopeScaling(scalingType, factor, originalContext, attnFactor),
                tied, Pooling.fromGguf(k.optionalInt("pooling_type", Pooling.NONE.ggufValue())));
    }

    /** Reads {@code <arch>.<key>} with llama.cpp's notion of required and optional. */
    private record Keys(GgufFile gguf, String prefix) {

        int requiredInt(String key) {
            return (int) gguf.integer(prefix + "." + key).orElseThrow(() -> missing(key));
        }

        int optionalInt(String key, int fallback) {
            return (int) gguf.integer(prefix + "." + key).orElse(fallback);
        }

        double requiredNumber(String key) {
            return gguf.number(prefix + "." + key).orElseThrow(() -> missing(key));
        }

        double optionalNumber(String key, double fallback) {
            return gguf.number(prefix + "." + key).orElse(fallback);
        }

        String optionalString(String key, String fallback) {
            return gguf.string(prefix + "." + key).orElse(fallback);
        }

        private UnsupportedModelException missing(String key) {
            return new UnsupportedModelException(gguf.path().getFileName() + " lacks the required key " + prefix + "." + key);
        }
    }
}
