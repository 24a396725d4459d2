package dev.sluice.engine.model;

/**
 * How a model's per-token hidden states become one embedding: GGUF's {@code <arch>.pooling_type},
 * numbered as llama.cpp's {@code enum llama_pooling_type}. A model without the key has
 * {@link #NONE}, as in llama.cpp (whose server then refuses OpenAI-style embeddings).
 */
public enum Pooling {
    /** No pooling: per-token states only (not an OpenAI embedding). */
    NONE(0),
    /** The average of every token's state. */
    MEAN(1),
    /** The first token's state. */
    CLS(2),
    /** The last token's state (Qwen3-Embedding and other decoder embedders). */
    LAST(3),
    /** A reranker's score head (not supported). */
    RANK(4);

    private final int ggufValue;

    Pooling(int ggufValue) {
        this.ggufValue = ggufValue;
    }

    /** The value in GGUF metadata (and llama.cpp's enum). */
    public int ggufValue() {
        return ggufValue;
    }

    /** Whether the server can return OpenAI embeddings with it. */
    public boolean embeds() {
        return this == MEAN || this == CLS || this == LAST;
    }

    /** The pooling with GGUF value {@code value}; an unknown one is an {@link UnsupportedModelException}. */
    public static Pooling fromGguf(long value) {
        for (Pooling p : values()) {
            if (p.ggufValue == value) {
                return p;
            }
        }
        throw new UnsupportedModelException("unknown pooling_type " + value);
    }
}
