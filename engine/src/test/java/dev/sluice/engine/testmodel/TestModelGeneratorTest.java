package dev.sluice.engine.testmodel;

import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.bindings.gguf.GgufFile;
import dev.sluice.bindings.gguf.GgufValueType;
import dev.sluice.bindings.llama.LlamaContext;
import dev.sluice.bindings.llama.LlamaModel;
import dev.sluice.bindings.llama.LlamaReference;
import dev.sluice.bindings.llama.LlamaVocab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generated models judged by llama.cpp itself: its loader, its decoder and its tokenizer. */
class TestModelGeneratorTest {

    private static final long SEED = 42;
    private static final String PROMPT = "The quick brown fox jumps over the lazy dog. Once upon a time, in a land far"
            + " away, there lived a king who had three daughters.";

    @TempDir
    static Path dir;

    private static final Map<String, GeneratedModel> MODELS = new ConcurrentHashMap<>();

    private static GeneratedModel model(Preset preset, WeightType type) {
        return MODELS.computeIfAbsent(preset.id() + "-" + type.id(),
                name -> TestModelGenerator.generate(preset, type, SEED, dir.resolve(name + ".gguf")));
    }

    static Stream<Arguments> presetsAndTypes() {
        List<Arguments> cases = new ArrayList<>();
        for (Preset preset : List.of(Preset.TINY_LLAMA, Preset.TINY_QWEN2, Preset.TINY_QWEN3)) {
            for (WeightType type : List.of(WeightType.F32, WeightType.F16, WeightType.Q8_0)) {
                cases.add(Arguments.of(preset, type));
            }
        }
        cases.add(Arguments.of(Preset.TINY_QWEN3, WeightType.Q4_K));
        cases.add(Arguments.of(Preset.TINY_LLAMA, WeightType.BF16));
        cases.add(Arguments.of(Preset.TINY_LLAMA, WeightType.Q4_0));
        return cases.stream();
    }

    @ParameterizedTest
    @MethodSource("presetsAndTypes")
    void llamaCppDecodesItWithATrainedModelsLogitSpread(Preset preset, WeightType type) {
        ModelShape shape = preset.shape();
        GeneratedModel model = model(preset, type);
        // One thread: on a busy machine, ggml's spinning worker threads slow tiny decodes down tenfold.
        try (LlamaReference reference = LlamaReference.open(model.path(), LlamaContext.Options.defaults(128).withThreads(1))) {
            assertEquals(shape.parameterCount(), reference.model().parameterCount());
            assertEquals(shape.vocabSize(), reference.vocab().size());
            assertEquals(shape.layers(), reference.model().layerCount());
            int[] prompt = reference.tokenize(PROMPT);
            float[][] logits = reference.promptLogits(prompt);
            double gapSum = 0;
            for (int i = 0; i < logits.length; i++) {
                double stdev = stdev(logits[i]);
                assertTrue(stdev > 2 && stdev < 4, "position " + i + ": logit stdev " + stdev);
                gapSum += topGap(logits[i]);
            }
            double meanGap = gapSum / logits.length;
            assertTrue(meanGap > 0.8, "mean gap between the top two logits " + meanGap);
            int[] greedy = reference.greedy(prompt, 16, false);
            assertTrue(Arrays.stream(greedy).distinct().count() >= 10,
                    "greedy decoding collapsed to a few tokens: " + Arrays.toString(greedy));
        }
    }

    @ParameterizedTest
    @MethodSource("presetsAndTypes")
    void fileHoldsEveryKeyAndTensorWritten(Preset preset, WeightType type) {
        ModelShape shape = preset.shape();
        GeneratedModel model = model(preset, type);
        String arch = shape.architecture().ggufName();
        try (GgufFile gguf = GgufFile.open(model.path(), false);
             GgufFile vocab = GgufFile.open(shape.vocabulary().path(), false)) {
            Set<String> expected = new HashSet<>(List.of("general.architecture", "general.name", "general.description",
                    "general.file_type", "general.quantization_version", "general.alignment",
                    arch + ".context_length", arch + ".embedding_length", arch + ".block_count",
                    arch + ".feed_forward_length", arch + ".attention.head_count", arch + ".attention.head_count_kv",
                    arch + ".attention.key_length", arch + ".attention.value_length",
                    arch + ".attention.layer_norm_rms_epsilon", arch + ".rope.freq_base", arch + ".rope.dimension_count",
                    arch + ".vocab_size", "sluice.testmodel.seed", "sluice.testmodel.generator_version",
                    "tokenizer.chat_template"));
            vocab.keys().stream().filter(k -> k.startsWith("tokenizer.")).forEach(expected::add);
            assertEquals(expected, Set.copyOf(gguf.keys()));

            assertEquals(arch, gguf.string("general.architecture").orElseThrow());
            assertEquals("Sluice random-weights " + preset.id(), gguf.string("general.name").orElseThrow());
            assertTrue(gguf.string("general.description").orElseThrow().contains("RANDOM WEIGHTS"));
            assertEquals(type.fileType(), gguf.integer("general.file_type").orElseThrow());
            assertEquals(32, gguf.alignment());
            assertEquals(shape.contextLength(), gguf.integer(arch + ".context_length").orElseThrow());
            assertEquals(shape.embeddingLength(), gguf.integer(arch + ".embedding_length").orElseThrow());
            assertEquals(shape.layers(), gguf.integer(arch + ".block_count").orElseThrow());
            assertEquals(shape.feedForwardLength(), gguf.integer(arch + ".feed_forward_length").orElseThrow());
            assertEquals(shape.heads(), gguf.integer(arch + ".attention.head_count").orElseThrow());
            assertEquals(shape.kvHeads(), gguf.integer(arch + ".attention.head_count_kv").orElseThrow());
            assertEquals(shape.headDim(), gguf.integer(arch + ".attention.key_length").orElseThrow());
            assertEquals(shape.headDim(), gguf.integer(arch + ".attention.value_length").orElseThrow());
            assertEquals(shape.headDim(), gguf.integer(arch + ".rope.dimension_count").orElseThrow());
            assertEquals(shape.vocabSize(), gguf.integer(arch + ".vocab_size").orElseThrow());
            assertEquals(shape.rmsEpsilon(), gguf.number(arch + ".attention.layer_norm_rms_epsilon").orElseThrow().floatValue());
            assertEquals(shape.ropeFreqBase(), gguf.number(arch + ".rope.freq_base").orElseThrow().floatValue());
            assertEquals(GgufValueType.FLOAT32, gguf.type(arch + ".rope.freq_base").orElseThrow());
            assertEquals(SEED, gguf.integer("sluice.testmodel.seed").orElseThrow());
            assertEquals(TestModelGenerator.CHAT_TEMPLATE, gguf.string("tokenizer.chat_template").orElseThrow());

            List<TensorSpec> specs = shape.tensors();
            assertEquals(specs.stream().map(TensorSpec::name).toList(), List.copyOf(gguf.tensors().keySet()));
            for (TensorSpec spec : specs) {
                GgufFile.TensorInfo info = gguf.tensor(spec.name()).orElseThrow();
                assertArrayEquals(spec.shape(), info.shape(), spec.name());
                assertEquals(model.tensorTypes().get(spec.name()), info.type(), spec.name());
                assertEquals(spec.isMatrix() ? type.storageFor(spec.rowLength()) : GgmlType.F32, info.type(), spec.name());
            }
            long last = gguf.tensors().values().stream().mapToLong(t -> t.offset() + (t.bytes() + 31) / 32 * 32).max().orElseThrow();
            assertEquals(gguf.dataOffset() + last, model.bytes());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Preset.class, names = {"TINY_LLAMA", "TINY_QWEN2", "TINY_QWEN3"})
    void tokenizerIsTheVocabularyFilesPlusChatMarkers(Preset preset) {
        GeneratedModel model = model(preset, WeightType.Q8_0);
        try (LlamaModel source = LlamaModel.loadVocabOnly(preset.shape().vocabulary().path());
             LlamaModel generated = LlamaModel.loadVocabOnly(model.path())) {
            LlamaVocab expected = source.vocab();
            LlamaVocab actual = generated.vocab();
            for (String text : List.of("Hello world", " Hello world", "Grüße, 世界! 12345 <s>\n\tdef f(x):")) {
                assertArrayEquals(expected.tokenize(text, true, false), actual.tokenize(text, true, false), text);
                assertArrayEquals(expected.tokenize(text, false, true), actual.tokenize(text, false, true), text);
            }
            assertEquals(expected.bos(), actual.bos());
            assertEquals(expected.eos(), actual.eos());
            for (int id = 0; id < expected.size(); id += 997) {
                assertEquals(expected.text(id), actual.text(id));
            }
            int[] turn = actual.tokenize("<|im_start|>user\nHi<|im_end|>", false, true);
            int start = turn[0];
            int end = turn[turn.length - 1];
            assertEquals("<|im_start|>", actual.text(start));
            assertEquals("<|im_end|>", actual.text(end));
            assertTrue(actual.isControl(start) && actual.isControl(end));
            assertTrue(actual.isEndOfGeneration(end));
            assertEquals(TestModelGenerator.CHAT_TEMPLATE, generated.metadata("tokenizer.chat_template").orElseThrow());
        }
    }

    @Test
    void kQuantsFallBackToQ8_0WhereRowsDoNotFitAndSaySo() {
        GeneratedModel model = model(Preset.TINY_QWEN3, WeightType.Q4_K);
        assertEquals(GgmlType.Q4_K, model.tensorTypes().get("blk.0.ffn_down.weight"));  // rows of 256
        assertEquals(GgmlType.Q8_0, model.tensorTypes().get("blk.0.attn_q.weight"));    // rows of 64
        assertEquals(GgmlType.F32, model.tensorTypes().get("blk.0.attn_q_norm.weight"));
        long matrices = Preset.TINY_QWEN3.shape().tensors().stream().filter(TensorSpec::isMatrix).count();
        assertEquals(matrices - 2, model.fallbacks().size());
        assertTrue(model.fallbacks().contains("token_embd.weight"));
        try (GgufFile gguf = GgufFile.open(model.path(), false)) {
            assertTrue(gguf.string("general.description").orElseThrow().contains(model.fallbacks().size()
                    + " weight matrices are stored as Q8_0 or F16"));
        }
    }

    @Test
    void sameSeedGivesTheSameBytesOnAnyThreadCountAndAnotherSeedDiffers() throws IOException {
        ModelShape shape = Preset.TINY_LLAMA.shape();
        Path one = TestModelGenerator.generate(shape, "tiny-llama", WeightType.F16, 7, dir.resolve("t1.gguf"), 1).path();
        Path three = TestModelGenerator.generate(shape, "tiny-llama", WeightType.F16, 7, dir.resolve("t3.gguf"), 3).path();
        Path other = TestModelGenerator.generate(shape, "tiny-llama", WeightType.F16, 8, dir.resolve("s8.gguf"), 2).path();
        assertEquals(sha256(one), sha256(three));
        assertNotEquals(sha256(one), sha256(other));
        assertEquals(Files.size(one), Files.size(other));
    }

    @Test
    void ensureGeneratesOnceEvenWhenCallersRace(@TempDir Path cache) throws IOException {
        List<CompletableFuture<Path>> racers = List.of(
                CompletableFuture.supplyAsync(() -> TestModelGenerator.ensure(cache, Preset.TINY_LLAMA, WeightType.Q8_0, 3)),
                CompletableFuture.supplyAsync(() -> TestModelGenerator.ensure(cache, Preset.TINY_LLAMA, WeightType.Q8_0, 3)));
        Path file = racers.get(0).join();
        assertEquals(file, racers.get(1).join());
        assertEquals(cache.resolve("random-tiny-llama-q8_0-seed3-v" + TestModelGenerator.VERSION + ".gguf"), file);
        try (Stream<Path> files = Files.list(cache)) {
            assertEquals(List.of(file), files.toList(), "no temporary files left behind");
        }
        FileTime marked = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(file, marked);
        assertEquals(file, TestModelGenerator.ensure(cache, Preset.TINY_LLAMA, WeightType.Q8_0, 3));
        assertEquals(marked, Files.getLastModifiedTime(file), "a cached model is not regenerated");
        try (GgufFile gguf = GgufFile.open(file, false)) {
            assertEquals(3, gguf.integer("sluice.testmodel.seed").orElseThrow());
        }
    }

    @Test
    void mainWritesTheModelAndPrintsItsPath() {
        Path out = dir.resolve("from-main.gguf");
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true));
        try {
            TestModelGenerator.main(new String[] {"--preset", "tiny-llama", "--type", "q4_0", "--seed", "5", "--out", out.toString()});
        } finally {
            System.setOut(stdout);
        }
        assertEquals(out.toAbsolutePath().toString(), printed.toString().strip());
        try (GgufFile gguf = GgufFile.open(out, false)) {
            assertEquals(WeightType.Q4_0.fileType(), gguf.integer("general.file_type").orElseThrow());
            assertEquals(5, gguf.integer("sluice.testmodel.seed").orElseThrow());
        }
    }

    private static double stdev(float[] values) {
        double mean = 0;
        for (float v : values) {
            assertTrue(Float.isFinite(v), "non-finite logit");
            mean += v;
        }
        mean /= values.length;
        double variance = 0;
        for (float v : values) {
            variance += (v - mean) * (v - mean);
        }
        return Math.sqrt(variance / values.length);
    }

    private static double topGap(float[] values) {
        float first = Float.NEGATIVE_INFINITY;
        float second = Float.NEGATIVE_INFINITY;
        for (float v : values) {
            if (v > first) {
                second = first;
                first = v;
            } else if (v > second) {
                second = v;
            }
        }
        return first - second;
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
