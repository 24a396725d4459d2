package dev.sluice.engine.testmodel;

import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.engine.testmodel.ModelShape.Architecture;
import dev.sluice.engine.testmodel.TensorSpec.Role;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelShapeTest {

    @Test
    void realShapesHaveTheRealModelsParameterCounts() {
        // SmolLM2-135M: embeddings 49152 x 576 (tied), 30 layers of
        // Q 576x576 + K, V 576x192 + O 576x576 + 3 FFN 576x1536 + 2 norms of 576, a final norm:
        // 134,515,008 weights. The two ChatML markers appended to StarCoder's vocabulary add 2 x 576.
        long smol = 49152L * 576 + 30L * (2 * 576 * 576 + 2 * 576 * 192 + 3 * 576 * 1536 + 2 * 576) + 576;
        assertEquals(134_515_008L, smol);
        assertEquals(smol + 2 * 576, Preset.SMOLLM2_135M_SHAPE.shape().parameterCount());
        // Qwen2.5-0.5B: embeddings 151936 x 896 (tied), 24 layers of Q, O 896x896 + K, V 896x128
        // + QKV biases 896 + 128 + 128 + 3 FFN 896x4864 + 2 norms, a final norm: 494,032,768.
        long qwen = 151936L * 896 + 24L * (2 * 896 * 896 + 2 * 896 * 128 + 896 + 2 * 128 + 3 * 896 * 4864 + 2 * 896) + 896;
        assertEquals(494_032_768L, qwen);
        assertEquals(qwen, Preset.QWEN2_5_0_5B_SHAPE.shape().parameterCount());
    }

    @Test
    void layoutFollowsTheArchitecture() {
        Map<String, TensorSpec> qwen3 = byName(Preset.TINY_QWEN3.shape().tensors());
        assertArrayEquals(new long[] {64, 128}, qwen3.get("blk.1.attn_q.weight").shape());  // 4 heads x 32
        assertArrayEquals(new long[] {64, 64}, qwen3.get("blk.1.attn_k.weight").shape());   // 2 KV heads x 32
        assertArrayEquals(new long[] {128, 64}, qwen3.get("blk.1.attn_output.weight").shape());
        assertArrayEquals(new long[] {32}, qwen3.get("blk.1.attn_q_norm.weight").shape());
        assertArrayEquals(new long[] {256, 64}, qwen3.get("blk.0.ffn_down.weight").shape());
        assertEquals(Role.NORM, qwen3.get("blk.0.attn_k_norm.weight").role());
        assertFalse(qwen3.containsKey("output.weight"), "tied");
        assertArrayEquals(new long[] {64, 128258}, qwen3.get("token_embd.weight").shape());

        Map<String, TensorSpec> qwen2 = byName(Preset.TINY_QWEN2.shape().tensors());
        assertArrayEquals(new long[] {64}, qwen2.get("blk.0.attn_q.bias").shape());
        assertArrayEquals(new long[] {32}, qwen2.get("blk.0.attn_v.bias").shape());
        assertFalse(qwen2.containsKey("blk.0.attn_q_norm.weight"));

        List<TensorSpec> llama = Preset.TINY_LLAMA.shape().tensors();
        assertEquals("token_embd.weight", llama.getFirst().name());
        assertEquals("output.weight", llama.getLast().name());
        assertArrayEquals(new long[] {64, 32002}, llama.getLast().shape());
        assertEquals(2 + 2 * 9 + 1, llama.size());
        assertTrue(llama.stream().noneMatch(t -> t.name().endsWith(".bias")));
    }

    @Test
    void refusesShapesLlamaCppWouldNotLoad() {
        assertThrows(IllegalArgumentException.class, () -> shape(Architecture.QWEN2, 32, false));  // 4 x 32 != 64
        assertThrows(IllegalArgumentException.class, () -> shape(Architecture.LLAMA, 16, true));   // Q/K norms
        assertThrows(IllegalArgumentException.class, () -> shape(Architecture.QWEN3, 16, false));  // no Q/K norms
        assertThrows(IllegalArgumentException.class, () -> new ModelShape(Architecture.LLAMA, 64, 2, 4, 3, 16, 128, 256,
                1e4f, 1e-5f, false, false, false, Vocabulary.LLAMA_SPM));                          // 4 heads, 3 KV heads
        assertEquals(32002, shape(Architecture.LLAMA, 32, false).vocabSize());                    // head dim 32 is fine for llama
    }

    @Test
    void namesAndFallbacks() {
        assertEquals(Preset.QWEN2_5_0_5B_SHAPE, Preset.byId("qwen2.5-0.5b-shape"));
        assertThrows(IllegalArgumentException.class, () -> Preset.byId("gpt-5"));
        assertEquals(WeightType.Q8_0, WeightType.byId("Q8_0"));
        assertEquals("q4_k", WeightType.Q4_K.id());
        assertThrows(IllegalArgumentException.class, () -> WeightType.byId("q3_k"));
        assertEquals(GgmlType.Q4_K, WeightType.Q4_K.storageFor(512));
        assertEquals(GgmlType.Q8_0, WeightType.Q4_K.storageFor(64));
        assertEquals(GgmlType.F16, WeightType.Q6_K.storageFor(48));
        assertEquals(GgmlType.F16, WeightType.Q4_0.storageFor(48));
        assertEquals(GgmlType.BF16, WeightType.BF16.storageFor(48));
    }

    private static ModelShape shape(Architecture architecture, int headDim, boolean qkNorm) {
        return new ModelShape(architecture, 64, 2, 4, 2, headDim, 128, 256, 1e4f, 1e-5f, false, false, qkNorm,
                Vocabulary.LLAMA_SPM);
    }

    private static Map<String, TensorSpec> byName(List<TensorSpec> tensors) {
        return tensors.stream().collect(Collectors.toMap(TensorSpec::name, Function.identity()));
    }
}
