package dev.sluice.engine.model;

import dev.sluice.bindings.ggml.RopeParams;

import java.util.Arrays;
import java.util.Locale;

/**
 * The transformer families the engine builds graphs for. They share one decoder layout
 * (RMSNorm, GQA attention with RoPE, SwiGLU MLP) and differ in a few switches.
 */
public enum Architecture {
    /** Llama 2/3/3.x, Mistral, TinyLlama, SmolLM: adjacent-pair RoPE, no biases. */
    LLAMA("llama", RopeParams.MODE_NORMAL, false, false),
    /** Qwen2 / Qwen2.5: half-split (NeoX) RoPE, biases on Q, K and V. */
    QWEN2("qwen2", RopeParams.MODE_NEOX, true, false),
    /** Qwen3 (dense): NeoX RoPE, per-head RMSNorm of Q and K before RoPE. */
    QWEN3("qwen3", RopeParams.MODE_NEOX, false, true);

    private final String ggufName;
    private final int ropeMode;
    private final boolean qkvBias;
    private final boolean qkNorm;

    Architecture(String ggufName, int ropeMode, boolean qkvBias, boolean qkNorm) {
        this.ggufName = ggufName;
        this.ropeMode = ropeMode;
        this.qkvBias = qkvBias;
        this.qkNorm = qkNorm;
    }

    /** The value of {@code general.architecture}, which also prefixes the hyperparameter keys. */
    public String ggufName() {
        return ggufName;
    }

    public int ropeMode() {
        return ropeMode;
    }

    /** Whether Q, K and V projections carry biases. */
    public boolean qkvBias() {
        return qkvBias;
    }

    /** Whether Q and K are RMS-normalized per head before RoPE. */
    public boolean qkNorm() {
        return qkNorm;
    }

    public static Architecture fromGguf(String name) {
        for (Architecture a : values()) {
            if (a.ggufName.equals(name)) {
                return a;
            }
        }
        throw new UnsupportedModelException("architecture '" + name + "' is not supported (supported: "
                + String.join(", ", Arrays.stream(values()).map(Architecture::ggufName).toList()) + ")");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
