package dev.sluice.engine.testmodel;

import dev.sluice.engine.testmodel.ModelShape.Architecture;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The named model shapes. The tiny ones are for tests (seconds to generate and load); the two
 * real-size ones have exactly the tensor shapes of SmolLM2-135M and Qwen2.5-0.5B, for benchmarks.
 */
public enum Preset {
    /** Llama with separate output weights and a SentencePiece vocabulary. */
    TINY_LLAMA("tiny-llama", new ModelShape(Architecture.LLAMA, 64, 2, 4, 2, 16, 128, 2048,
            10_000f, 1e-5f, false, false, false, Vocabulary.LLAMA_SPM)),
    /** Qwen2: QKV biases, tied embeddings, Qwen's vocabulary. */
    TINY_QWEN2("tiny-qwen2", new ModelShape(Architecture.QWEN2, 64, 2, 4, 2, 16, 128, 4096,
            1_000_000f, 1e-6f, true, true, false, Vocabulary.QWEN2)),
    /**
     * Qwen3: per-head Q/K norms, a head size of 32 where 64 / 4 heads would give 16 (so
     * {@code attention.key_length} matters), and an FFN of 256 so that {@code ffn_down} can hold
     * K-quant blocks. Llama 3's byte-level BPE vocabulary, for tokenizer variety.
     */
    TINY_QWEN3("tiny-qwen3", new ModelShape(Architecture.QWEN3, 64, 2, 4, 2, 32, 256, 4096,
            1_000_000f, 1e-6f, true, false, true, Vocabulary.LLAMA_BPE)),
    /** SmolLM2-135M's shape (134.5M parameters); StarCoder's vocabulary has its size. */
    SMOLLM2_135M_SHAPE("smollm2-135m-shape", new ModelShape(Architecture.LLAMA, 576, 30, 9, 3, 64, 1536, 8192,
            100_000f, 1e-5f, true, false, false, Vocabulary.STARCODER)),
    /** Qwen2.5-0.5B's shape (494M parameters). */
    QWEN2_5_0_5B_SHAPE("qwen2.5-0.5b-shape", new ModelShape(Architecture.QWEN2, 896, 24, 14, 2, 64, 4864, 32768,
            1_000_000f, 1e-6f, true, true, false, Vocabulary.QWEN2));

    private final String id;
    private final ModelShape shape;

    Preset(String id, ModelShape shape) {
        this.id = id;
        this.shape = shape;
    }

    /** The preset's name, as scripts and file names spell it. */
    public String id() {
        return id;
    }

    public ModelShape shape() {
        return shape;
    }

    public static Preset byId(String id) {
        return Arrays.stream(values()).filter(p -> p.id.equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown preset '" + id + "'; the presets are "
                        + Arrays.stream(values()).map(Preset::id).collect(Collectors.joining(", "))));
    }
}
