package dev.sluice.bindings.gguf;

import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufFileTest {

    @Test
    void readsMetadataAndTensorDirectory() {
        try (GgufFile gguf = GgufFile.open(TestModels.stories260K(), true)) {
            assertEquals(3, gguf.version());
            assertEquals("llama", gguf.string("general.architecture").orElseThrow());
            assertEquals(5, gguf.integer("llama.block_count").orElseThrow());
            assertEquals(64, gguf.integer("llama.embedding_length").orElseThrow());
            assertEquals(GgufValueType.UINT32, gguf.type("llama.block_count").orElseThrow());
            assertTrue(gguf.number("llama.attention.layer_norm_rms_epsilon").orElseThrow() > 0);
            List<String> tokens = gguf.stringArray("tokenizer.ggml.tokens").orElseThrow();
            assertEquals(512, tokens.size());
            assertEquals(512, gguf.arrayLength("tokenizer.ggml.tokens").orElseThrow());
            assertEquals(512, gguf.numberArray("tokenizer.ggml.scores").orElseThrow().length);
            assertFalse(gguf.has("no.such.key"));
            assertTrue(gguf.string("no.such.key").isEmpty());
            assertThrows(IllegalArgumentException.class, () -> gguf.string("llama.block_count"));
            assertTrue(gguf.keys().contains("general.architecture"));

            GgufFile.TensorInfo embedding = gguf.tensor("token_embd.weight").orElseThrow();
            assertEquals(GgmlType.F32, embedding.type());
            assertArrayEquals(new long[] {64, 512}, embedding.shape());
            assertEquals(64L * 512 * 4, embedding.bytes());
            assertEquals(0, embedding.offset() % gguf.alignment());
            assertTrue(gguf.dataOffset() > 0 && gguf.dataOffset() % gguf.alignment() == 0);
            // 5 layers x 9 tensors + token_embd + output_norm (+ output when untied)
            assertTrue(gguf.tensors().size() >= 47, "tensor count " + gguf.tensors().size());
            var tensor = gguf.tensorContext().tensor("blk.0.attn_q.weight").orElseThrow();
            assertArrayEquals(new long[] {64, 64, 1, 1}, tensor.shape());
            assertFalse(tensor.isAllocated());
        }
    }

    @Test
    void closesOnceAndRefusesUseAfterClose() {
        GgufFile gguf = GgufFile.open(TestModels.stories260K(), true);
        var context = gguf.tensorContext();
        var tensor = context.tensor("output_norm.weight").orElseThrow();
        gguf.close();
        assertDoesNotThrow(gguf::close);
        assertThrows(IllegalStateException.class, gguf::version);
        assertThrows(IllegalStateException.class, () -> gguf.string("general.architecture"));
        assertThrows(IllegalStateException.class, tensor::shape);
        assertFalse(context.isOpen());
    }

    @Test
    void metadataOnlyOpenHasNoTensorContext() {
        try (GgufFile gguf = GgufFile.open(TestModels.llamaCppVocab("ggml-vocab-llama-spm.gguf"), false)) {
            assertEquals("llama", gguf.string("general.architecture").orElseThrow());
            assertThrows(IllegalStateException.class, gguf::tensorContext);
            Object tokens = gguf.value("tokenizer.ggml.tokens");
            assertEquals(32000, ((List<?>) tokens).size());
            assertEquals(1L, gguf.value("tokenizer.ggml.bos_token_id"));
        }
    }
}
