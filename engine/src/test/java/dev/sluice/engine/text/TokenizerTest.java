package dev.sluice.engine.text;

import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerTest {

    static final List<String> TEXTS = List.of(
            "Hello world",
            "The quick brown fox jumps over the lazy dog.",
            "Crème brûlée, naïve façade, Ærøskøbing, Zürich",
            "日本語のテキストと中文文本，한국어 텍스트",
            "Emoji: 🙂👍🏽 🧑‍💻 🇫🇷 — done",
            "spaces     and\ttabs\t\there",
            "line one\nline two\n\n\nafter blank lines\r\nwindows",
            "   leading and trailing   ");

    private static Tokenizer spm;
    private static Tokenizer bpe;
    private static Tokenizer qwen;

    @BeforeAll
    static void open() {
        spm = Tokenizer.open(TestModels.llamaCppVocab("ggml-vocab-llama-spm.gguf"));
        bpe = Tokenizer.open(TestModels.llamaCppVocab("ggml-vocab-llama-bpe.gguf"));
        qwen = Tokenizer.open(TestModels.llamaCppVocab("ggml-vocab-qwen2.gguf"));
    }

    @AfterAll
    static void close() {
        spm.close();
        bpe.close();
        qwen.close();
    }

    @Test
    void encodesLikeLlamaCpp() {
        // The ids llama.cpp's own tokenizer tests expect for this vocabulary.
        assertArrayEquals(new int[] {1, 15043, 3186}, spm.encode("Hello world", true, false));
        assertArrayEquals(new int[] {15043, 3186}, spm.encode("Hello world", false, false));
    }

    @ParameterizedTest
    @ValueSource(strings = {"spm", "bpe", "qwen"})
    void roundTripsText(String name) {
        Tokenizer tokenizer = byName(name);
        for (String text : TEXTS) {
            int[] tokens = tokenizer.encode(text, false, false);
            assertEquals(text, tokenizer.decode(tokens), () -> name + ": " + Arrays.toString(tokens));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bpe", "qwen"})
    void piecesConcatenateToTheText(String name) {
        Tokenizer tokenizer = byName(name);
        for (String text : TEXTS) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (int token : tokenizer.encode(text, false, false)) {
                bytes.writeBytes(tokenizer.piece(token));
            }
            assertEquals(text, bytes.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void decodeSkipsControlTokens() {
        int[] tokens = spm.encode("Hello world", true, false);
        int[] withEos = Arrays.copyOf(tokens, tokens.length + 1);
        withEos[tokens.length] = spm.eos();
        // SentencePiece keeps the space it prefixed when the sequence starts with BOS.
        assertEquals(" Hello world", spm.decode(withEos));
        assertEquals(0, spm.piece(spm.eos()).length);
    }

    @Test
    void parsesSpecialTokensOnlyWhenAsked() {
        int imEnd = qwen.encode("<|im_end|>", false, true)[0];
        assertArrayEquals(new int[] {imEnd}, qwen.encode("<|im_end|>", false, true));
        assertTrue(qwen.encode("<|im_end|>", false, false).length > 1);
        assertEquals("<|im_end|>", qwen.tokenText(imEnd));
        assertTrue(qwen.isEndOfGeneration(imEnd));
    }

    @Test
    void knowsItsSpecialTokens() {
        assertEquals(32000, spm.vocabSize());
        assertEquals(1, spm.bos());
        assertEquals(2, spm.eos());
        assertTrue(spm.addsBos());
        assertEquals("<s>", spm.tokenText(spm.bos()));
        assertEquals("</s>", spm.tokenText(spm.eos()));

        // Llama 3: <|end_of_text|> ends a sequence, <|eot_id|> a turn; both end generation.
        assertEquals("<|begin_of_text|>", bpe.tokenText(bpe.bos()));
        assertEquals("<|eot_id|>", bpe.tokenText(bpe.eot()));
        assertTrue(bpe.isEndOfGeneration(bpe.eos()));
        assertTrue(bpe.isEndOfGeneration(bpe.eot()));
        assertFalse(bpe.isEndOfGeneration(bpe.bos()));
        assertFalse(bpe.isEndOfGeneration(bpe.encode("Hello", false, false)[0]));
    }

    @Test
    void listsEveryEndOfGenerationToken() {
        for (Tokenizer tokenizer : List.of(spm, bpe, qwen)) {
            int[] eog = tokenizer.endOfGenerationTokens();
            assertTrue(eog.length > 0);
            for (int token = 0; token < tokenizer.vocabSize(); token++) {
                assertEquals(tokenizer.isEndOfGeneration(token), Arrays.binarySearch(eog, token) >= 0);
            }
            assertTrue(Arrays.binarySearch(eog, tokenizer.eos()) >= 0);
        }
        assertArrayEquals(new int[] {2}, spm.endOfGenerationTokens());
    }

    @Test
    void rejectsTokensOutsideTheVocabulary() {
        assertThrows(IllegalArgumentException.class, () -> spm.piece(32000));
        assertThrows(IllegalArgumentException.class, () -> spm.piece(-1));
        assertThrows(IllegalArgumentException.class, () -> spm.decode(new int[] {15043, 32000}));
        assertThrows(IllegalArgumentException.class, () -> spm.isEndOfGeneration(-1));
        assertThrows(IllegalArgumentException.class, () -> spm.tokenText(Integer.MAX_VALUE));
    }

    @Test
    void throwsCleanlyAfterClose() {
        Tokenizer tokenizer = Tokenizer.open(TestModels.llamaCppVocab("ggml-vocab-llama-spm.gguf"));
        tokenizer.close();
        tokenizer.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> tokenizer.encode("Hello", true, false));
        assertThrows(IllegalStateException.class, () -> tokenizer.decode(new int[] {15043}));
        assertThrows(IllegalStateException.class, () -> tokenizer.piece(15043));
        assertThrows(IllegalStateException.class, () -> tokenizer.tokenText(1));
        assertThrows(IllegalStateException.class, tokenizer::vocabSize);
        assertThrows(IllegalStateException.class, tokenizer::bos);
        assertThrows(IllegalStateException.class, tokenizer::chatTemplate);
        assertThrows(IllegalStateException.class, () -> tokenizer.isEndOfGeneration(2));
    }

    @Test
    void encodesConcurrently() throws Exception {
        String text = String.join(" ", TEXTS);
        int[] expected = qwen.encode(text, true, false);
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<List<int[]>>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    List<int[]> encoded = new ArrayList<>();
                    for (int i = 0; i < 200; i++) {
                        encoded.add(qwen.encode(text, true, false));
                    }
                    return encoded;
                }));
            }
            start.countDown();
            for (Future<List<int[]>> result : results) {
                for (int[] tokens : result.get()) {
                    assertArrayEquals(expected, tokens);
                }
            }
        }
    }

    @Test
    void closingWhileOthersEncodeNeverCrashes() throws Exception {
        Tokenizer tokenizer = Tokenizer.open(TestModels.llamaCppVocab("ggml-vocab-qwen2.gguf"));
        String text = String.join(" ", TEXTS);
        int[] expected = tokenizer.encode(text, false, false);
        AtomicInteger encoded = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                workers.add(pool.submit(() -> {
                    while (true) {
                        try {
                            assertArrayEquals(expected, tokenizer.encode(text, false, false));
                            encoded.incrementAndGet();
                        } catch (IllegalStateException closed) {
                            refused.incrementAndGet();
                            return null;
                        }
                    }
                }));
            }
            while (encoded.get() < 100) {
                Thread.onSpinWait();
            }
            tokenizer.close();
            for (Future<?> worker : workers) {
                worker.get();
            }
        }
        assertEquals(8, refused.get());
    }

    private static Tokenizer byName(String name) {
        return switch (name) {
            case "spm" -> spm;
            case "bpe" -> bpe;
            case "qwen" -> qwen;
            default -> throw new IllegalArgumentException(name);
        };
    }
}
