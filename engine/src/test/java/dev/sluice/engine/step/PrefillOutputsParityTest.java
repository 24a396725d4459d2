package dev.sluice.engine.step;

import dev.sluice.bindings.llama.LlamaContext;
import dev.sluice.bindings.llama.LlamaReference;
import dev.sluice.engine.Engine;
import dev.sluice.engine.model.Pooling;
import dev.sluice.engine.sampling.PromptLogprob;
import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.engine.sampling.TokenLogprob;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;
import dev.sluice.testing.TestDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prefill-only outputs through the real executor, against llama.cpp on the same GGUF and tokens:
 * pooled embeddings ({@code llama_get_embeddings_seq} of an embeddings context with the model's
 * pooling) for every architecture and every pooling (mean, CLS, last), with the prompt split
 * into chunks and a generating sequence in the same steps; and prompt log-probabilities
 * (llama.cpp's logits for every prompt token, through a log-softmax in double here).
 *
 * <p>Tolerance: the engine runs the same ggml kernels on the same F16 K/V as llama.cpp; rows may
 * meet kernels tiled for another batch shape (chunks), so values may differ in the last bits.
 * Embeddings are compared with {@code 1e-3 × max|value|} (as the logits parity test), log-probs
 * within {@code 1e-3 × max|logit|} of each row.
 */
class PrefillOutputsParityTest {

    private static final int THREADS = 2;
    private static final int BLOCK = 16;

    static Stream<Arguments> embeddingModels() {
        List<Arguments> all = new ArrayList<>();
        for (Preset preset : List.of(Preset.TINY_LLAMA, Preset.TINY_QWEN2, Preset.TINY_QWEN3)) {
            for (Pooling pooling : List.of(Pooling.MEAN, Pooling.CLS, Pooling.LAST)) {
                all.add(Arguments.of(preset, pooling));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("embeddingModels")
    void embeddingsMatchLlamaCpp(Preset preset, Pooling pooling) {
        Path model = TestModelGenerator.ensureEmbedding(preset, WeightType.F16, 7, pooling);
        LlamaContext.Options options = LlamaContext.Options.defaults(512).withThreads(THREADS)
                .withFlashAttention(LlamaContext.FlashAttention.ON)
                .withEmbeddings(LlamaContext.Pooling.valueOf(pooling.name()));
        try (LlamaReference reference = LlamaReference.open(model, TestDevice.referenceModel(), options);
             Engine engine = load(model);
             EngineExecutor executor = executor(engine)) {
            assertEquals(pooling, engine.config().pooling());
            Random random = new Random(preset.ordinal() * 31L + pooling.ordinal());
            int[] prompt = randomPrompt(reference, random, 45);
            float[] expected = reference.embedding(prompt);

            // A generating sequence decodes next to the embedding's three chunks (17 + 17 + 11 tokens).
            int[] other = randomPrompt(reference, random, 9);
            int[] otherTable = table(40);
            int[] table = table(0);
            executor.startSequence(1, SamplingParams.GREEDY, prompt);
            executor.startSequence(2, SamplingParams.GREEDY, other);
            StepPlan plan = new StepPlan();
            int[] otherTokens = java.util.Arrays.copyOf(other, other.length + 8);
            int otherLength = other.length;
            float[] actual = null;
            int done = 0;
            for (int chunk : new int[] {17, 17, 11}) {
                plan.clear();
                int otherStart = otherLength == other.length ? 0 : otherLength - 1;
                int e = plan.add(2, otherTokens, otherStart, otherLength - otherStart, otherStart, otherTable,
                        blocks(otherLength), 1);
                int entry = plan.add(1, prompt, done, chunk, done, table, blocks(done + chunk), 0);
                boolean last = done + chunk == prompt.length;
                plan.prefillOutputs(entry, true, -1, prompt.length, last);
                StepResult result = executor.execute(plan);
                assertTrue(result.token(e, 0) >= 0, "the generating sequence samples in the same step");
                otherTokens[otherLength++] = result.token(e, 0);
                if (!last) {
                    assertNull(result.embedding(entry), "no embedding before the prompt's last chunk");
                } else {
                    actual = result.embedding(entry);
                }
                done += chunk;
            }
            assertNotNull(actual);
            assertClose(expected, actual, preset + " " + pooling);
            executor.endSequence(1);
            executor.endSequence(2);
        }
    }

    @Test
    void aModelWithoutPoolingHasNone() {
        try (Engine engine = load(TestModelGenerator.ensure(Preset.TINY_QWEN3, WeightType.F16, 7))) {
            assertEquals(Pooling.NONE, engine.config().pooling());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("logprobModels")
    void promptLogprobsMatchLlamaCppLogits(Preset preset) {
        Path model = TestModelGenerator.ensure(preset, WeightType.F16, 7);
        LlamaContext.Options options = LlamaContext.Options.defaults(512).withThreads(THREADS)
                .withFlashAttention(LlamaContext.FlashAttention.ON);
        try (LlamaReference reference = LlamaReference.open(model, TestDevice.referenceModel(), options);
             Engine engine = load(model);
             EngineExecutor executor = executor(engine)) {
            Random random = new Random(preset.ordinal());
            int[] prompt = randomPrompt(reference, random, 30);
            float[][] logits = reference.promptLogits(prompt);
            executor.startSequence(5, SamplingParams.GREEDY, prompt);
            StepPlan plan = new StepPlan();
            int[] table = table(0);
            List<PromptLogprob> scored = new ArrayList<>();
            int done = 0;
            int sampled = -1;
            for (int chunk : new int[] {12, 18}) {
                plan.clear();
                boolean last = done + chunk == prompt.length;
                int e = plan.add(5, prompt, done, chunk, done, table, blocks(done + chunk), last ? 1 : 0);
                plan.prefillOutputs(e, false, 3, prompt.length, last);
                StepResult result = executor.execute(plan);
                assertEquals(done + 1, result.promptLogprobsFrom(e));
                scored.addAll(result.promptLogprobs(e));
                if (last) {
                    sampled = result.token(e, 0);
                }
                done += chunk;
            }
            assertEquals(prompt.length - 1, scored.size(), "every prompt token after the first");
            for (int p = 1; p < prompt.length; p++) {
                float[] row = logits[p - 1];
                double max = Double.NEGATIVE_INFINITY;
                double maxAbs = 0;
                for (float v : row) {
                    max = Math.max(max, v);
                    maxAbs = Math.max(maxAbs, Math.abs(v));
                }
                double sum = 0;
                for (float v : row) {
                    sum += Math.exp(v - max);
                }
                double norm = max + Math.log(sum);
                PromptLogprob got = scored.get(p - 1);
                assertEquals(prompt[p], got.token());
                double tolerance = 1e-3 * maxAbs;
                assertEquals(row[prompt[p]] - norm, got.logprob(), tolerance, "position " + p);
                int rank = 1;
                for (float v : row) {
                    rank += v > row[prompt[p]] ? 1 : 0;
                }
                assertTrue(Math.abs(rank - got.rank()) <= 2, "rank at " + p + ": " + rank + " vs " + got.rank());
                assertEquals(3, got.top().size());
                TokenLogprob best = got.top().getFirst();
                assertEquals(row[best.token()] - norm, best.logprob(), tolerance);
                assertTrue(row[best.token()] >= max - tolerance, "the top alternative is the row's maximum");
            }
            assertEquals(LlamaReference.argmax(logits[prompt.length - 1]), sampled, "the last row still samples");
            executor.endSequence(5);
        }
    }

    static Stream<Preset> logprobModels() {
        return Stream.of(Preset.TINY_LLAMA, Preset.TINY_QWEN2, Preset.TINY_QWEN3);
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": width");
        float maxAbs = 0;
        float maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
            maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
        }
        assertNotEquals(0f, maxAbs, what + ": llama.cpp's embedding is all zeros");
        assertTrue(maxDiff <= 1e-3f * maxAbs, what + ": max |Δ| " + maxDiff + " vs max |value| " + maxAbs);
    }

    private static Engine load(Path model) {
        return Engine.load(Engine.Options.defaults(model).withKvTokens(1024).withBlockSize(BLOCK).withThreads(THREADS)
                .withDevice(TestDevice.gpu() ? Engine.Device.GPU : Engine.Device.CPU));
    }

    private static EngineExecutor executor(Engine engine) {
        return new EngineExecutor(engine.runner(), engine.kvCache(), engine.swapArea(), engine.newSamplingWorkspace());
    }

    private static int[] table(int first) {
        int[] table = new int[16];
        for (int i = 0; i < table.length; i++) {
            table[i] = first + 15 - i; // scattered, descending
        }
        return table;
    }

    private static int blocks(int tokens) {
        return (tokens + BLOCK - 1) / BLOCK;
    }

    private static int[] randomPrompt(LlamaReference reference, Random random, int length) {
        int vocab = reference.vocab().size();
        int[] prompt = new int[length];
        for (int i = 0; i < length; i++) {
            int token;
            do {
                token = random.nextInt(Math.min(vocab, 30_000));
            } while (reference.vocab().isControl(token));
            prompt[i] = token;
        }
        return prompt;
    }
}
