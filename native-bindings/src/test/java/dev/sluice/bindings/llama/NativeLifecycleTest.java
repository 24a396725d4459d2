package dev.sluice.bindings.llama;

import dev.sluice.bindings.NativeException;
import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Closing twice is harmless; using a closed native object throws instead of crashing the JVM. */
class NativeLifecycleTest {

    @Test
    void modelClosesTwiceAndRefusesUseAfterClose() {
        LlamaModel model = LlamaModel.loadVocabOnly(TestModels.llamaCppVocab("ggml-vocab-llama-spm.gguf"));
        LlamaVocab vocab = model.vocab();
        model.close();
        assertDoesNotThrow(model::close);
        assertFalse(model.isOpen());
        assertThrows(IllegalStateException.class, model::vocab);
        assertThrows(IllegalStateException.class, model::trainedContextLength);
        assertThrows(IllegalStateException.class, () -> vocab.tokenize("Hello", true, false));
        assertThrows(IllegalStateException.class, vocab::size);
    }

    @Test
    void closingTheModelClosesItsContexts() {
        LlamaModel model = LlamaModel.load(TestModels.stories260K(), LlamaModel.Options.CPU);
        LlamaContext context = LlamaContext.create(model, LlamaContext.Options.defaults(64));
        LlamaBatch batch = new LlamaBatch(4);
        batch.add(1, 0, 0, true);
        context.decode(batch);
        model.close();
        assertThrows(IllegalStateException.class, () -> context.decode(batch));
        assertThrows(IllegalStateException.class, () -> context.logits(0));
        assertDoesNotThrow(context::close);
        batch.close();
        assertDoesNotThrow(batch::close);
        assertThrows(IllegalStateException.class, () -> batch.add(1, 0, 0, false));
    }

    @Test
    void contextClosesTwiceAndRefusesUseAfterClose() {
        try (LlamaModel model = LlamaModel.load(TestModels.stories260K(), LlamaModel.Options.CPU);
             LlamaBatch batch = new LlamaBatch(1)) {
            LlamaContext context = LlamaContext.create(model, LlamaContext.Options.defaults(64));
            context.close();
            assertDoesNotThrow(context::close);
            batch.add(1, 0, 0, true);
            assertThrows(IllegalStateException.class, () -> context.decode(batch));
            assertTrue(model.isOpen(), "closing a context leaves its model open");
        }
    }

    @Test
    void vocabOnlyModelCannotDecode() {
        try (LlamaModel model = LlamaModel.loadVocabOnly(TestModels.llamaCppVocab("ggml-vocab-llama-spm.gguf"))) {
            assertThrows(IllegalArgumentException.class, () -> LlamaContext.create(model, LlamaContext.Options.defaults(64)));
        }
    }

    @Test
    void badFilesFailWithAClearError(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertThrows(NativeException.class, () -> LlamaModel.loadVocabOnly(dir.resolve("missing.gguf")));
        Path garbage = Files.writeString(dir.resolve("garbage.gguf"), "this is not a GGUF file");
        assertThrows(NativeException.class, () -> LlamaModel.loadVocabOnly(garbage));
    }
}
