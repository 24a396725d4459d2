package dev.sluice.bindings.llama;

import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The typed layer over llama.cpp's samplers and candidate arrays, on real native samplers. */
class LlamaSamplerTest {

    private static final float[] LOGITS = {0.5f, 3f, -1f, 2f, 1f, 2.5f};

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
    void fillMakesEveryTokenACandidateInIdOrder() {
        try (Arena arena = Arena.ofConfined(); LlamaTokenDataArray candidates = new LlamaTokenDataArray(8)) {
            candidates.fill(arena.allocateFrom(ValueLayout.JAVA_FLOAT, LOGITS));
            assertEquals(LOGITS.length, candidates.size());
            assertEquals(-1, candidates.selectedIndex());
            for (int i = 0; i < LOGITS.length; i++) {
                assertEquals(i, candidates.id(i));
                assertEquals(LOGITS[i], candidates.logit(i));
            }
            candidates.setLogit(2, 7f);
            assertEquals(7f, candidates.logit(2));
            candidates.fillSingle(5);
            assertEquals(1, candidates.size());
            assertEquals(5, candidates.id(0));
            assertThrows(IllegalArgumentException.class,
                    () -> candidates.fill(arena.allocate(ValueLayout.JAVA_FLOAT, 9)));
        }
    }

    @Test
    void topKKeepsTheHighestLogits() {
        try (Arena arena = Arena.ofConfined();
             LlamaTokenDataArray candidates = new LlamaTokenDataArray(LOGITS.length);
             LlamaSampler topK = LlamaSampler.topK(3)) {
            candidates.fill(arena.allocateFrom(ValueLayout.JAVA_FLOAT, LOGITS));
            topK.apply(candidates);
            assertEquals(3, candidates.size());
            Set<Integer> kept = new HashSet<>();
            for (int i = 0; i < candidates.size(); i++) {
                kept.add(candidates.id(i));
            }
            assertEquals(Set.of(1, 5, 3), kept);
        }
    }

    @Test
    void temperatureDividesTheLogits() {
        try (Arena arena = Arena.ofConfined();
             LlamaTokenDataArray candidates = new LlamaTokenDataArray(LOGITS.length);
             LlamaSampler temperature = LlamaSampler.temperature(2f)) {
            candidates.fill(arena.allocateFrom(ValueLayout.JAVA_FLOAT, LOGITS));
            temperature.apply(candidates);
            for (int i = 0; i < LOGITS.length; i++) {
                assertEquals(LOGITS[i] / 2f, candidates.logit(i), 1e-6f);
            }
        }
    }

    @Test
    void distributionWithTheSameSeedSelectsTheSameTokens() {
        try (Arena arena = Arena.ofConfined();
             LlamaTokenDataArray candidates = new LlamaTokenDataArray(LOGITS.length);
             LlamaSampler first = LlamaSampler.distribution(1234);
             LlamaSampler second = LlamaSampler.distribution(1234)) {
            MemorySegment logits = arena.allocateFrom(ValueLayout.JAVA_FLOAT, LOGITS);
            Set<Integer> seen = new HashSet<>();
            for (int draw = 0; draw < 50; draw++) {
                candidates.fill(logits);
                first.apply(candidates);
                int a = candidates.id(candidates.selectedIndex());
                candidates.fill(logits);
                second.apply(candidates);
                assertEquals(a, candidates.id(candidates.selectedIndex()));
                seen.add(a);
            }
            assertTrue(seen.size() > 1, "50 draws from a flat distribution picked only " + seen);
        }
    }

    @Test
    void grammarRejectsTokensThatCannotContinueIt() {
        LlamaVocab vocab = model.vocab();
        int yes = tokenWithText(vocab, "yes");
        int no = tokenWithText(vocab, "no");
        try (LlamaTokenDataArray single = new LlamaTokenDataArray(1);
             LlamaSampler grammar = LlamaSampler.grammar(vocab, "root ::= \"yes\"", "root")) {
            single.fillSingle(no);
            grammar.apply(single);
            assertEquals(Float.NEGATIVE_INFINITY, single.logit(0), vocab.text(no) + " cannot start \"yes\"");
            single.fillSingle(yes);
            grammar.apply(single);
            assertEquals(0f, single.logit(0), vocab.text(yes) + " can start \"yes\"");
        }
    }

    /** The token whose piece is exactly {@code text} (tokenizing would add SentencePiece's space). */
    private static int tokenWithText(LlamaVocab vocab, String text) {
        for (int token = 0; token < vocab.size(); token++) {
            if (vocab.text(token).equals(text)) {
                return token;
            }
        }
        throw new AssertionError("no token " + text);
    }

    @Test
    void invalidGrammarsAreRejectedAtConstruction() {
        LlamaVocab vocab = model.vocab();
        assertThrows(IllegalArgumentException.class, () -> LlamaSampler.grammar(vocab, "root ::= \"unterminated", "root"));
        assertThrows(IllegalArgumentException.class, () -> LlamaSampler.grammar(vocab, "root ::= missing", "root"));
        assertThrows(IllegalArgumentException.class, () -> LlamaSampler.grammar(vocab, "other ::= \"x\"", "root"));
        assertThrows(IllegalArgumentException.class, () -> LlamaSampler.grammar(vocab, "root ::= root \"a\" | \"a\"", "root"));
        assertThrows(IllegalArgumentException.class, () -> LlamaSampler.grammar(vocab, " ", "root"));
        assertThrows(IllegalArgumentException.class, () -> LlamaSampler.topK(0));
        assertThrows(IllegalArgumentException.class, () -> LlamaSampler.topP(0f));
        assertThrows(IllegalArgumentException.class, () -> LlamaSampler.temperature(0f));
    }

    @Test
    void closesTwiceAndRefusesUseAfterClose() {
        LlamaTokenDataArray candidates = new LlamaTokenDataArray(4);
        LlamaSampler sampler = LlamaSampler.minP(0.1f);
        sampler.close();
        assertDoesNotThrow(sampler::close);
        assertThrows(IllegalStateException.class, () -> sampler.apply(candidates));
        assertThrows(IllegalStateException.class, () -> sampler.accept(1));
        candidates.close();
        assertDoesNotThrow(candidates::close);
        assertThrows(IllegalStateException.class, candidates::size);
        assertThrows(IllegalStateException.class, () -> candidates.logit(0));
        assertThrows(IllegalStateException.class, () -> candidates.fillSingle(1));
    }

    @Test
    void grammarRefusesUseOnceItsModelIsClosed() {
        LlamaModel own = LlamaModel.loadVocabOnly(TestModels.llamaCppVocab("ggml-vocab-llama-spm.gguf"));
        try (LlamaTokenDataArray single = new LlamaTokenDataArray(1);
             LlamaSampler grammar = LlamaSampler.grammar(own.vocab(), "root ::= \"a\"", "root")) {
            single.fillSingle(100);
            own.close();
            assertThrows(IllegalStateException.class, () -> grammar.apply(single));
            assertThrows(IllegalStateException.class, () -> grammar.accept(100));
        }
    }
}
