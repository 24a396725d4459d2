package dev.sluice.engine.sampling;

import dev.sluice.bindings.NativeBuild;
import dev.sluice.bindings.llama.LlamaModel;
import dev.sluice.bindings.llama.LlamaVocab;
import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static dev.sluice.engine.sampling.TestLogits.gaussian;
import static dev.sluice.engine.sampling.TestLogits.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GBNF grammars constrain the output, through every path the sampler takes. */
class SamplerGrammarTest {

    private static final String YES_OR_NO = "root ::= \"yes\" | \"no\"";

    private static LlamaModel model;
    private static LlamaVocab vocab;

    private Arena arena;
    private SamplingWorkspace workspace;
    private MemorySegment row;

    @BeforeAll
    static void load() {
        model = LlamaModel.loadVocabOnly(TestModels.llamaCppVocab("ggml-vocab-llama-spm.gguf"));
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

    @Test
    void yesOrNoGrammarYieldsExactlyYesOrNo() {
        List<SamplingParams.Builder> modes = List.of(
                SamplingParams.GREEDY.toBuilder(),                          // pick, then check the one token
                SamplingParams.builder().temperature(1.5f),                 // draw, then check the one token
                SamplingParams.builder().topK(50).topP(0.9f).minP(0.01f));  // truncation: grammar first
        Set<String> outputs = new HashSet<>();
        for (SamplingParams.Builder mode : modes) {
            for (int run = 0; run < 8; run++) {
                String text = generate(mode.grammar(YES_OR_NO).seed(run).build(), new Random(run), 10, 2);
                assertTrue(text.equals("yes") || text.equals("no"), "grammar output '" + text + "'");
                outputs.add(text);
            }
        }
        assertEquals(Set.of("yes", "no"), outputs, "random logits should reach both alternatives");
    }

    /**
     * A control token (BOS) renders as nothing in the output, but llama.cpp's grammar reads it as
     * its text ({@code <s>}), which a JSON string allows: under a grammar it must never be chosen,
     * or the output would be missing what the grammar counted (an empty string passing a
     * minLength, say).
     */
    @Test
    void aControlTokenIsNeverChosenUnderAGrammar() {
        String atLeastThree = "root ::= \"\\\"\" [a-z<>/]{3,10} \"\\\"\"";
        int bos = vocab.bos();
        assertEquals(0, vocab.piece(bos, false).length, "BOS shows as nothing in the output");
        for (SamplingParams.Builder mode : List.of(SamplingParams.GREEDY.toBuilder(), SamplingParams.builder().seed(1),
                SamplingParams.builder().topK(20).seed(1))) {
            Map<Integer, Float> bias = new HashMap<>();
            bias.put(bos, 60f);
            String text = generate(mode.grammar(atLeastThree).logitBias(bias).build(), new Random(3), 20, 1);
            assertTrue(text.matches("\"[a-z<>/]{3,10}\""), "'" + text + "'");
        }
    }

    /**
     * Samples and accepts tokens from random logits until an end-of-generation token; returns the
     * text before it. Fails if none comes within {@code maxTokens}.
     */
    private String generate(SamplingParams params, Random random, int maxTokens, double scale) {
        List<Integer> tokens = new ArrayList<>();
        try (Sampler sampler = new Sampler(params, workspace)) {
            for (int step = 0; step < maxTokens; step++) {
                int token = sampler.sample(write(row, gaussian(random, vocab.size(), scale))).token();
                if (vocab.isEndOfGeneration(token)) {
                    return vocab.detokenize(tokens.stream().mapToInt(Integer::intValue).toArray(), false, false);
                }
                sampler.accept(token);
                tokens.add(token);
            }
        }
        throw new AssertionError("no end of generation within " + maxTokens + " tokens: " + tokens);
    }

    @Test
    void jsonGrammarYieldsParseableJson() throws IOException {
        String json = Files.readString(NativeBuild.sourceDir().resolve("grammars").resolve("json.gbnf"));
        // Random logits rarely close what they open: favour punctuation and the end of generation.
        Map<Integer, Float> bias = new HashMap<>();
        Set<String> closers = Set.of("}", "]", "\"", ",", ":", "1", "\":", "\",", "},", "\"}");
        for (int token = 0; token < vocab.size(); token++) {
            if (closers.contains(vocab.text(token))) {
                bias.put(token, 9f);
            }
        }
        bias.put(vocab.eos(), 9f);
        List<SamplingParams.Builder> modes = List.of(
                SamplingParams.GREEDY.toBuilder(), SamplingParams.builder(), SamplingParams.builder().topK(100));
        int withMembers = 0;
        for (SamplingParams.Builder mode : modes) {
            for (int run = 0; run < 6; run++) {
                SamplingParams params = mode.grammar(json).logitBias(bias).seed(run).build();
                String text = generate(params, new Random(run), 200, 1);
                assertTrue(JsonCheck.isValid(text), "not JSON: " + text);
                withMembers += text.contains(":") ? 1 : 0;
            }
        }
        assertTrue(withMembers >= 6, "only " + withMembers + " of 18 objects had members");
    }

    @Test
    void jsonCheckTellsJsonFromNot() {
        assertTrue(JsonCheck.isValid("{\"a\": [1, -2.5e3, \"x\\n\", true, null], \"b\": {}} "));
        for (String text : List.of("{", "{\"a\"}", "[1,]", "{\"a\":1,}", "01", "\"\\q\"", "{} {}", "")) {
            assertFalse(JsonCheck.isValid(text), text);
        }
    }

    @Test
    void acceptingATokenTheGrammarRejectsThrowsInsteadOfAborting() {
        try (Sampler sampler = new Sampler(SamplingParams.GREEDY.toBuilder().grammar(YES_OR_NO).build(), workspace)) {
            assertThrows(IllegalArgumentException.class, () -> sampler.accept(vocab.eos()), "the grammar is not complete");
            int spaceYes = vocab.tokenize("yes", false, false)[0]; // SentencePiece adds a space: " yes"
            assertThrows(IllegalArgumentException.class, () -> sampler.accept(spaceYes));
            for (int token : tokensSpelling("yes")) {
                sampler.accept(token);
            }
            sampler.accept(vocab.eos());
        }
    }

    /** Tokens whose pieces, with no SentencePiece space marker, spell {@code text} one character each. */
    private static int[] tokensSpelling(String text) {
        return text.chars().map(c -> {
            for (int token = 0; token < vocab.size(); token++) {
                if (vocab.text(token).equals(Character.toString(c))) {
                    return token;
                }
            }
            throw new AssertionError("no token for " + (char) c);
        }).toArray();
    }

    @Test
    void aGrammarNoTokenCanContinueFailsSampleClearly() {
        // No token's piece is a NUL byte (llama.cpp rejects those), and the grammar is not complete.
        SamplingParams params = SamplingParams.builder().grammar("root ::= \"\\x00\"").seed(1).build();
        try (Sampler sampler = new Sampler(params, workspace)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> sampler.sample(write(row, gaussian(new Random(1), vocab.size(), 1))));
            assertTrue(e.getMessage().contains("grammar"), e.getMessage());
        }
    }

    @Test
    void invalidGrammarsFailAtConstruction() {
        for (String grammar : List.of("root ::= \"unterminated", "root ::= undefined", "start ::= \"x\"",
                "root ::= root \"x\" | \"x\"")) {
            SamplingParams params = SamplingParams.builder().grammar(grammar).build();
            assertThrows(IllegalArgumentException.class, () -> new Sampler(params, workspace), grammar);
        }
    }
}
