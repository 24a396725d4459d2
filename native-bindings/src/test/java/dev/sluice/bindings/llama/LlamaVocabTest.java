package dev.sluice.bindings.llama;

import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlamaVocabTest {

    private static LlamaModel model;

    @BeforeAll
    static void load() {
        model = LlamaModel.loadVocabOnly(TestModels.llamaCppVocab("ggml-vocab-llama-spm.gguf"));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void tokenizesLikeLlamaCpp() {
        // The reference ids llama.cpp's own tokenizer tests use for this vocabulary.
        assertArrayEquals(new int[] {1, 15043, 3186}, model.vocab().tokenize("Hello world", true, false));
        assertArrayEquals(new int[] {15043, 3186}, model.vocab().tokenize("Hello world", false, false));
    }

    @Test
    void knowsItsSpecialTokens() {
        LlamaVocab vocab = model.vocab();
        assertEquals(32000, vocab.size());
        assertEquals(1, vocab.bos());
        assertEquals(2, vocab.eos());
        assertTrue(vocab.addsBos());
        assertTrue(vocab.isEndOfGeneration(2));
        assertTrue(vocab.isControl(1));
    }

    @Test
    void roundTripsMultilingualText() {
        String text = "Grüße, 世界! 🙂 tabs\tand\nnewlines";
        LlamaVocab vocab = model.vocab();
        int[] tokens = vocab.tokenize(text, true, false);
        // SentencePiece prefixes a space when encoding; llama.cpp's detokenizer leaves it in.
        assertEquals(" " + text, vocab.detokenize(tokens, true, false));
        // Byte pieces concatenate to the same UTF-8 even when a character spans tokens.
        var bytes = new java.io.ByteArrayOutputStream();
        for (int i = 1; i < tokens.length; i++) {
            bytes.writeBytes(vocab.piece(tokens[i], false));
        }
        assertEquals(" " + text, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void rejectsTokensOutsideTheVocabulary() {
        assertThrows(IllegalArgumentException.class, () -> model.vocab().piece(32000, false));
        assertThrows(IllegalArgumentException.class, () -> model.vocab().detokenize(new int[] {-1}, false, false));
    }
}
