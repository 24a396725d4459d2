package dev.sluice.api.structured;

import dev.sluice.bindings.llama.LlamaModel;
import dev.sluice.bindings.llama.LlamaVocab;
import dev.sluice.engine.sampling.Sampler;
import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.engine.sampling.SamplingWorkspace;
import dev.sluice.testing.TestModels;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * llama.cpp's grammar sampler, through the engine's {@link Sampler}, over stories260K's 512-token
 * vocabulary: small enough that masking the whole vocabulary is cheap, and with a byte-fallback
 * token for every byte, so any document can be fed to a grammar byte by byte. Used by one test
 * class at a time, on one thread.
 */
final class GrammarHarness implements AutoCloseable {

    private final LlamaModel model;
    private final LlamaVocab vocab;
    private final SamplingWorkspace workspace;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment row;
    private final int[] byteTokens = new int[256];
    private final Map<Integer, Float> closers = new HashMap<>();

    GrammarHarness() {
        model = LlamaModel.loadVocabOnly(TestModels.stories260K());
        vocab = model.vocab();
        workspace = new SamplingWorkspace(vocab);
        row = arena.allocate(ValueLayout.JAVA_FLOAT, vocab.size());
        java.util.Arrays.fill(byteTokens, -1);
        Set<String> closing = Set.of("\"", "}", "]", ",", "0", "1", "5", "9", "\",", "\"}", "},", "e", "a", "t", "n", "l", "-");
        for (int t = 0; t < vocab.size(); t++) {
            String text = vocab.text(t);
            if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
                byteTokens[Integer.parseInt(text.substring(3, 5), 16)] = t;
            }
            if (closing.contains(text)) {
                closers.put(t, 3f);
            }
        }
        for (int b = 0; b < 256; b++) {
            if (byteTokens[b] < 0) {
                throw new IllegalStateException("no byte token for " + b);
            }
        }
    }

    int vocabSize() {
        return vocab.size();
    }

    /** Whether the grammar (start rule root) matches {@code document} exactly, fed one byte token at a time. */
    boolean accepts(String grammar, String document) {
        try (Sampler sampler = new Sampler(SamplingParams.GREEDY.toBuilder().grammar(grammar).build(), workspace)) {
            for (byte b : document.getBytes(StandardCharsets.UTF_8)) {
                try {
                    sampler.accept(byteTokens[b & 0xFF]);
                } catch (IllegalArgumentException e) {
                    return false;
                }
            }
            try {
                sampler.accept(vocab.eos());
                return true;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
    }

    /** Whether llama.cpp's parser takes the grammar. */
    boolean parses(String grammar) {
        try (Sampler ignored = new Sampler(SamplingParams.GREEDY.toBuilder().grammar(grammar).build(), workspace)) {
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Samples under the grammar from random logits (a random-weight model's output layer, in
     * effect) at temperature 1, with JSON punctuation and end of generation favoured so that
     * strings and containers close; the text before end of generation, or null if none came
     * within {@code maxTokens}.
     */
    String generate(String grammar, long seed, int maxTokens) {
        Random random = new Random(seed);
        float[] logits = new float[vocab.size()];
        Map<Integer, Float> bias = new HashMap<>(closers);
        bias.put(vocab.eos(), 6f);
        SamplingParams params = SamplingParams.builder().grammar(grammar).seed(seed).logitBias(bias).build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Sampler sampler = new Sampler(params, workspace)) {
            for (int step = 0; step < maxTokens; step++) {
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = (float) (random.nextGaussian() * 2);
                }
                MemorySegment.copy(logits, 0, row, ValueLayout.JAVA_FLOAT, 0, logits.length);
                int token = sampler.sample(row).token();
                if (vocab.isEndOfGeneration(token)) {
                    return out.toString(StandardCharsets.UTF_8);
                }
                sampler.accept(token);
                out.writeBytes(vocab.piece(token, false));
            }
        }
        return null;
    }

    @Override
    public void close() {
        workspace.close();
        arena.close();
        model.close();
    }
}
