package dev.sluice.engine.model;

import dev.sluice.bindings.ggml.Tensor;

/**
 * One decoder layer's tensors. Optional ones are null: biases exist for qwen2, Q/K norms for
 * qwen3, {@code attnOutputBias} for a few llama variants.
 */
public record LayerWeights(
        Tensor attnNorm,
        Tensor wq, Tensor wk, Tensor wv,
        Tensor bq, Tensor bk, Tensor bv,
        Tensor qNorm, Tensor kNorm,
        Tensor wo, Tensor attnOutputBias,
        Tensor ffnNorm,
        Tensor ffnGate, Tensor ffnUp, Tensor ffnDown) {
}
