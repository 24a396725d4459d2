package dev.sluice.api.openai;

import dev.sluice.api.http.ApiException;
import dev.sluice.engine.testmodel.Vocabulary;
import dev.sluice.engine.text.Tokenizer;
import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The fill-in-the-middle prompt layout on real vocabularies: StarCoder's (SmolLM2's) has FIM
 * tokens; Llama 2's and the Qwen2 file the generator uses have none.
 */
class FillInTheMiddleTest {

    /** A special token's id, found by its text (markup parsed), independently of libllama's FIM lookup. */
    private static int special(Tokenizer tokenizer, String text) {
        int[] ids = tokenizer.encode(text, false, true);
        assertEquals(1, ids.length, text);
        return ids[0];
    }

    private static int[] concat(int[]... parts) {
        return java.util.Arrays.stream(parts).flatMapToInt(IntStream::of).toArray();
    }

    @Test
    void starCoderLayoutIsPrefixSuffixMiddleWithoutBos() {
        try (Tokenizer star = Tokenizer.open(Vocabulary.STARCODER.path())) {
            assertFalse(star.addsBos());
            int pre = special(star, "<fim_prefix>");
            int suf = special(star, "<fim_suffix>");
            int mid = special(star, "<fim_middle>");
            String prefix = "def add(a, b):\n    ";
            String suffix = "\n\nprint(add(1, 2))\n";
            int[] prompt = FillInTheMiddle.prompt(star, prefix, null, suffix, 4096);
            assertArrayEquals(concat(new int[] {pre}, star.encode(prefix, false, false), new int[] {suf},
                    star.encode(suffix, false, false), new int[] {mid}), prompt);
            // Markup in the texts stays text: it is not a second FIM token.
            int[] marked = FillInTheMiddle.prompt(star, "<fim_middle>", null, "", 4096);
            assertEquals(1, IntStream.of(marked).filter(t -> t == mid).count());
            assertArrayEquals(new int[] {pre, suf, mid}, FillInTheMiddle.prompt(star, "", null, "", 4096));
            // A prompt of token ids is the prefix as it is.
            assertArrayEquals(new int[] {pre, 5, 6, suf, mid}, FillInTheMiddle.prompt(star, null, new int[] {5, 6}, "", 4096));
        }
    }

    @Test
    void vocabulariesWithoutFimTokensAreRefused() {
        // Qwen2's file has ChatML but not Qwen2.5-Coder's FIM tokens; Llama 2's has neither.
        for (Vocabulary vocabulary : new Vocabulary[] {Vocabulary.LLAMA_SPM, Vocabulary.QWEN2}) {
            try (Tokenizer tokenizer = Tokenizer.open(vocabulary.path())) {
                ApiException e = assertThrows(ApiException.class, () -> FillInTheMiddle.prompt(tokenizer, "a", null, "b", 4096));
                assertEquals("suffix", e.param());
                assertEquals(400, e.status().code());
            }
        }
    }
}
