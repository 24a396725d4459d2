package dev.sluice.engine.text;

import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamingDetokenizerTest {

    private static final String TEXT = "Emoji 🙂👍🏽🧑‍💻🇫🇷 and CJK 日本語、中文，한국어 — café ∑ 𝄞 end\n";
    private static final String EMOJI = "🧑‍💻";

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

    @ParameterizedTest
    @ValueSource(strings = {"bpe", "qwen"})
    void byteLevelTokensSplitCharacters(String name) {
        // The premise of this class: some tokens of the emoji are not whole characters.
        Tokenizer tokenizer = byName(name);
        int[] tokens = tokenizer.encode(EMOJI, false, false);
        long partial = Arrays.stream(tokens)
                .filter(t -> new String(tokenizer.piece(t), StandardCharsets.UTF_8).contains("\uFFFD"))
                .count();
        assertTrue(partial > 0, () -> name + " encodes " + EMOJI + " as whole characters: " + Arrays.toString(tokens));
    }

    @ParameterizedTest
    @ValueSource(strings = {"bpe", "qwen"})
    void deltasReproduceTheTextAndNeverSplitACharacter(String name) {
        Tokenizer tokenizer = byName(name);
        int[] tokens = tokenizer.encode(TEXT, false, false);
        List<String> deltas = stream(new StreamingDetokenizer(tokenizer.texts()), tokens);
        assertEquals(TEXT, String.join("", deltas));
        assertEquals(tokenizer.decode(tokens), String.join("", deltas));
        deltas.forEach(StreamingDetokenizerTest::assertWholeCharacters);
        // Held-back bytes make some deltas empty, so the text really arrived in pieces.
        assertTrue(deltas.contains(""));
    }

    @Test
    void sentencePieceByteFallbackStreamsToo() {
        // llama-spm spells characters it lacks as <0xF0><0x9F>… byte tokens.
        int[] tokens = spm.encode(TEXT, false, false);
        List<String> deltas = stream(new StreamingDetokenizer(spm.texts()), tokens);
        // Streaming keeps the space SentencePiece prefixed; a whole-sequence decode drops it.
        assertEquals(" " + TEXT, String.join("", deltas));
        deltas.forEach(StreamingDetokenizerTest::assertWholeCharacters);
        assertTrue(deltas.contains(""));
    }

    @Test
    void controlTokensAreSilentUnlessRendered() {
        int hello = qwen.encode("Hello", false, false)[0];
        int imEnd = qwen.encode("<|im_end|>", false, true)[0];

        StreamingDetokenizer silent = new StreamingDetokenizer(qwen.texts());
        assertEquals("Hello", silent.append(hello));
        assertEquals("", silent.append(imEnd));
        assertEquals("", silent.append(qwen.eos()));

        StreamingDetokenizer rendering = new StreamingDetokenizer(qwen.texts(), true);
        assertEquals("Hello", rendering.append(hello));
        assertEquals("<|im_end|>", rendering.append(imEnd));
    }

    @Test
    void controlTokensBetweenTheBytesOfACharacterDoNotBreakIt() {
        StreamingDetokenizer detokenizer = new StreamingDetokenizer(qwen.texts());
        StringBuilder text = new StringBuilder();
        for (int token : qwen.encode(EMOJI, false, false)) {
            text.append(detokenizer.append(token));
            text.append(detokenizer.append(qwen.eos()));
        }
        assertEquals(EMOJI, text.append(detokenizer.flush()).toString());
    }

    @Test
    void bytesThatCannotBecomeACharacterTurnIntoReplacementCharacters() {
        int lead = byteToken(qwen, 0xF0);          // starts a 4-byte character…
        int continuation = byteToken(qwen, 0x9F);
        int letter = qwen.encode("A", false, false)[0];

        StreamingDetokenizer detokenizer = new StreamingDetokenizer(qwen.texts());
        assertEquals("", detokenizer.append(lead));
        assertEquals("", detokenizer.append(continuation));
        // …that a letter interrupts: the held bytes are invalid now, not later.
        String delta = detokenizer.append(letter);
        assertTrue(delta.startsWith("\uFFFD") && delta.endsWith("A"), delta);
        assertEquals("", detokenizer.flush());

        // A stray continuation byte can never be completed: replaced at once, never held.
        assertEquals("\uFFFD", detokenizer.append(continuation));

        // An unfinished character at the end of the sequence comes out at flush.
        assertEquals("", detokenizer.append(lead));
        assertEquals("\uFFFD", detokenizer.flush());
        assertEquals("", detokenizer.flush());
    }

    @Test
    void findsIncompleteCharactersAtTheEnd() {
        byte[] smile = "a🙂".getBytes(StandardCharsets.UTF_8); // 61 F0 9F 99 82
        assertEquals(0, StreamingDetokenizer.incompleteTail(smile, 5));
        assertEquals(3, StreamingDetokenizer.incompleteTail(smile, 4));
        assertEquals(2, StreamingDetokenizer.incompleteTail(smile, 3));
        assertEquals(1, StreamingDetokenizer.incompleteTail(smile, 2));
        assertEquals(0, StreamingDetokenizer.incompleteTail(smile, 1));
        byte[] e = "é".getBytes(StandardCharsets.UTF_8); // C3 A9
        assertEquals(1, StreamingDetokenizer.incompleteTail(e, 1));
        assertEquals(0, StreamingDetokenizer.incompleteTail(e, 2));
        // Bytes that start no sequence are not held: F5–FF, C0, C1, and lone continuations.
        for (int b : new int[] {0xF5, 0xFF, 0xC0, 0xC1, 0x80, 0xBF}) {
            assertEquals(0, StreamingDetokenizer.incompleteTail(new byte[] {(byte) b}, 1), Integer.toHexString(b));
        }
    }

    private static List<String> stream(StreamingDetokenizer detokenizer, int[] tokens) {
        List<String> deltas = new ArrayList<>();
        for (int token : tokens) {
            deltas.add(detokenizer.append(token));
        }
        deltas.add(detokenizer.flush());
        return deltas;
    }

    private static void assertWholeCharacters(String delta) {
        assertFalse(delta.contains("\uFFFD"), () -> "replacement character in " + delta);
        for (int i = 0; i < delta.length(); i++) {
            char c = delta.charAt(i);
            if (Character.isHighSurrogate(c)) {
                assertTrue(i + 1 < delta.length() && Character.isLowSurrogate(delta.charAt(i + 1)), delta);
                i++;
            } else {
                assertFalse(Character.isLowSurrogate(c), delta);
            }
        }
    }

    private static int byteToken(Tokenizer tokenizer, int b) {
        for (int token = 0; token < tokenizer.vocabSize(); token++) {
            if (Arrays.equals(tokenizer.piece(token), new byte[] {(byte) b})) {
                return token;
            }
        }
        throw new AssertionError("no token for byte " + Integer.toHexString(b));
    }

    private static Tokenizer byName(String name) {
        return name.equals("bpe") ? bpe : qwen;
    }
}
