package dev.sluice.bindings.ggml;

/**
 * Arguments of {@code ggml_rope_ext} that describe the rotary embedding itself (not the tensors).
 *
 * @param dimensions       rotated dimensions per head
 * @param mode             {@link #MODE_NORMAL} (adjacent pairs, llama) or {@link #MODE_NEOX} (halves, qwen)
 * @param originalContext  the context length the model was trained with (YaRN uses it)
 */
public record RopeParams(int dimensions, int mode, int originalContext, float freqBase, float freqScale,
                         float extFactor, float attnFactor, float betaFast, float betaSlow) {

    public static final int MODE_NORMAL = 0;
    public static final int MODE_NEOX = 2;
}
