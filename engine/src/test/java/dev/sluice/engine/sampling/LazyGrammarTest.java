package dev.sluice.engine.sampling;

import dev.sluice.bindings.llama.LlamaModel;
import dev.sluice.bindings.llama.LlamaVocab;
import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;

import static dev.sluice.engine.sampling.TestLogits.gaussian;
import static dev.sluice.engine.sampling.TestLogits.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A lazy grammar leaves the output free until a trigger and holds it to the grammar from the
 * trigger on, refusing (not crashing on) a token that completes the trigger with text the grammar
 * does not allow. On Qwen2's real BPE vocabulary, with logits that push the sampler towards
 * chosen tokens.
 */
class LazyGrammarTest {

    private static LlamaModel model;
    private static LlamaVocab vocab;

    private Arena arena;
    private SamplingWorkspace workspace;
    private MemorySegment row;

    @BeforeAll
    static void load() {
        model = LlamaModel.loadVocabOnly(TestModels.llamaCppVocab("ggml-vocab-qwen2.gguf"));
        vocab = model.vocab();
    }

    @AfterAll
    static void unload() {
        model.close();
    }

    @BeforeEach
    void open() {
        arena = Arena.ofConfined();
        workspace = new SamplingWorkspace(vocab);
        row = arena.allocate(ValueLayout.JAVA_FLOAT, vocab.size());
    }

    @AfterEach
    void close() {
        workspace.close();
        arena.close();
    }

    private static int token(String text) {
        int[] ids = vocab.tokenize(text, false, false);
        assertEquals(1, ids.length, "'" + text + "' is one token: " + java.util.Arrays.toString(ids));
        return ids[0];
    }

    private static int firstToken(Predicate<String> test) {
        for (int t = 0; t < vocab.size(); t++) {
            String text = new String(vocab.piece(t, false), java.nio.charset.StandardCharsets.UTF_8);
            if (test.test(text)) {
                return t;
            }
        }
        throw new AssertionError("no such token");
    }

    /**
     * Greedy-or-drawn generation where each step's logits favour {@code script}'s token (then the
     * end of generation); returns the output tokens.
     */
    private List<Integer> generate(SamplingParams params, int[] script, int maxTokens) {
        Random random = new Random(7);
        List<Integer> out = new ArrayList<>();
        try (Sampler sampler = new Sampler(params, workspace)) {
            for (int step = 0; step < maxTokens; step++) {
                float[] logits = gaussian(random, vocab.size(), 1);
                logits[step < script.length ? script[step] : vocab.eos()] += 40f;
                int token = sampler.sample(write(row, logits)).token();
                if (vocab.isEndOfGeneration(token)) {
                    return out;
                }
                sampler.accept(token);
                out.add(token);
            }
        }
        return out;
    }

    private static String text(List<Integer> tokens) {
        return vocab.detokenize(tokens.stream().mapToInt(Integer::intValue).toArray(), false, false);
    }

    private static final String CALL = "root ::= \"<tool_call>\\n{\\\"x\\\": \" [0-9] \"}\\n</tool_call>\"";

    @Test
    void freeTextThenTheGrammarFromTheTriggerOn() {
        // This vocabulary spells the trigger in four tokens ("<", "tool", "_call", ">"): it completes across tokens.
        int[] trigger = vocab.tokenize("<tool_call>", false, false);
        assertTrue(trigger.length > 1);
        int[] script = java.util.stream.IntStream.concat(java.util.stream.IntStream.concat(
                java.util.stream.IntStream.of(token("Hello"), token(" there")), java.util.Arrays.stream(trigger)),
                java.util.stream.IntStream.of(token("hello"), token("hello"))).toArray();
        for (SamplingParams.Builder mode : List.of(SamplingParams.GREEDY.toBuilder(), SamplingParams.builder().seed(3),
                SamplingParams.builder().topK(40).seed(3))) {
            String out = text(generate(mode.grammar(CALL).grammarTriggers(List.of("<tool_call>")).build(), script, 40));
            assertTrue(out.startsWith("Hello there<tool_call>\n{\"x\": "), out);
            assertTrue(out.matches("(?s)Hello there<tool_call>\n\\{\"x\": [0-9]}\n</tool_call>"), out);
        }
    }

    @Test
    void withoutTheTriggerTheOutputIsFree() {
        int[] script = {token("Hello"), token(" there"), token("hello")};
        String out = text(generate(SamplingParams.GREEDY.toBuilder().grammar(CALL).grammarTriggers(List.of("<tool_call>"))
                .build(), script, 10));
        assertEquals("Hello therehello", out);
    }

    @Test
    void aTokenCompletingTheTriggerWithTextTheGrammarRefusesIsNotDrawn() {
        String grammar = "root ::= \"ab\" \"c\"+";
        // "about": completes the trigger "ab", then "out", which the grammar refuses.
        int about = firstToken(t -> t.startsWith("ab") && t.length() > 2 && t.charAt(2) != 'c');
        // "...ab": the trigger starts inside the token and ends with it: allowed.
        int endsWithAb = firstToken(t -> t.endsWith("ab") && t.length() > 2 && !t.contains("a b"));
        int c = token("c");
        for (SamplingParams.Builder mode : List.of(SamplingParams.GREEDY.toBuilder(), SamplingParams.builder().seed(5),
                SamplingParams.builder().topK(40).seed(5))) {
            SamplingParams params = mode.grammar(grammar).grammarTriggers(List.of("ab")).build();
            List<Integer> refused = generate(params, new int[] {about}, 1);
            assertNotEquals(about, refused.getFirst(), "refused: " + text(refused));

            String out = text(generate(params, new int[] {endsWithAb, c, c}, 20));
            String before = new String(vocab.piece(endsWithAb, false), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(out.startsWith(before) && out.substring(before.length() - 2).matches("abc+"), out);
        }
    }

    /** A trigger the vocabulary has as a control token (no text in the output) triggers by its id. */
    @Test
    void aControlTokenTriggerStartsTheGrammarPastItsText() {
        LlamaModel spm = LlamaModel.loadVocabOnly(TestModels.llamaCppVocab("ggml-vocab-llama-spm.gguf"));
        try (SamplingWorkspace spmWorkspace = new SamplingWorkspace(spm.vocab());
             Arena rows = Arena.ofConfined()) {
            LlamaVocab v = spm.vocab();
            int bos = v.bos(); // "<s>": a control token, no text in the output
            int x = v.tokenize("x", false, false)[v.tokenize("x", false, false).length - 1];
            MemorySegment r = rows.allocate(ValueLayout.JAVA_FLOAT, v.size());
            SamplingParams params = SamplingParams.GREEDY.toBuilder().grammar("root ::= \"<s>\" [a-z]{2,3}")
                    .grammarTriggers(List.of("<s>")).build();
            List<Integer> out = new ArrayList<>();
            try (Sampler sampler = new Sampler(params, spmWorkspace)) {
                Random random = new Random(1);
                int[] script = {bos, x, x, x, x, x};
                for (int step = 0; step < 10; step++) {
                    float[] logits = gaussian(random, v.size(), 1);
                    logits[step < script.length ? script[step] : v.eos()] += 40f;
                    int token = sampler.sample(write(r, logits)).token();
                    if (v.isEndOfGeneration(token)) {
                        break;
                    }
                    sampler.accept(token);
                    out.add(token);
                }
            }
            assertEquals(bos, out.getFirst(), "the trigger is drawn while the output is free");
            String text = v.detokenize(out.stream().mapToInt(Integer::intValue).toArray(), false, false);
            assertTrue(text.strip().matches("[a-z]{2,3}"), "then the grammar holds: '" + text + "'");
        } finally {
            spm.close();
        }
    }

    @Test
    void acceptingARefusedTriggerTokenFails() {
        int about = firstToken(t -> t.startsWith("ab") && t.length() > 2 && t.charAt(2) != 'c');
        try (Sampler sampler = new Sampler(SamplingParams.GREEDY.toBuilder().grammar("root ::= \"ab\" \"c\"+")
                .grammarTriggers(List.of("ab")).build(), workspace)) {
            assertThrows(IllegalArgumentException.class, () -> sampler.accept(about));
        }
    }
}
