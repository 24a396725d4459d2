package dev.sluice.engine.model;

/**
 * How RoPE frequencies are scaled for contexts beyond training ({@code rope.scaling.*}).
 * Llama 3's frequency-dependent scaling is not here: its converter bakes it into a per-dimension
 * {@code rope_freqs.weight} tensor that the graph passes to RoPE as frequency factors.
 */
public record RopeScaling(Type type, float factor, int originalContext, float attnFactor) {

    public enum Type { NONE, LINEAR, YARN }

    public static RopeScaling none(int originalContext) {
        return new RopeScaling(Type.NONE, 1f, originalContext, 1f);
    }

    /** The frequency scale ggml's RoPE takes: 1 / factor for linear and YaRN scaling. */
    public float freqScale() {
        return type == Type.NONE || factor == 0f ? 1f : 1f / factor;
    }
}
