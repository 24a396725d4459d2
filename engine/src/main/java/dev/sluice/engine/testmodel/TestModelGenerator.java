package dev.sluice.engine.testmodel;

import dev.sluice.bindings.NativeBuild;
import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.bindings.ggml.Quantizer;
import dev.sluice.bindings.gguf.GgufFile;
import dev.sluice.bindings.gguf.GgufValueType;
import dev.sluice.engine.model.Pooling;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes random-weight GGUF models that llama.cpp (and Sluice) load like real ones: the tensors
 * their architecture needs, in the shapes of a {@link ModelShape}, the metadata llama.cpp reads, a
 * real tokenizer copied from one of llama.cpp's vocabulary files, and a ChatML chat template.
 * Real models cannot be downloaded where Sluice is built, so tests, benchmarks and the server's
 * demo mode use these. The weights (see {@link WeightInit}) are deterministic: the same shape,
 * weight type and seed give a byte-identical file, whatever the thread count.
 *
 * <p>Tensor data is generated and converted in slices of rows, on {@code threads} threads, and
 * streamed to the file in order, so even the large shapes never sit in memory whole.
 */
public final class TestModelGenerator {

    /** Part of every cached file's name: bump it whenever the bytes generated for a (preset, type, seed) change. */
    public static final int VERSION = 1;

    /** Plain ChatML, as SmolLM2 and OpenHermes use it (Qwen2.5's adds a default system prompt and tools). */
    public static final String CHAT_TEMPLATE = "{%- for message in messages %}"
            + "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
            + "{%- endfor %}"
            + "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    private static final String USAGE = "usage: TestModelGenerator --preset NAME [--type f16] [--seed 0] [--out FILE]\n"
            + "  Without --out, the model goes to the cache ($SLUICE_CACHE/models, by default ~/.cache/sluice/models)\n"
            + "  unless it is already there.\n"
            + "  Prints the model's path.";
    private static final int CONTROL_TOKEN_TYPE = 3;      // LLAMA_TOKEN_TYPE_CONTROL
    private static final int QUANTIZATION_VERSION = 2;    // GGML_QNT_VERSION
    private static final int SLICE_ELEMENTS = 1 << 18;    // a task's rows: 1 MiB of F32
    private static final System.Logger LOG = System.getLogger(TestModelGenerator.class.getName());

    private TestModelGenerator() {
    }

    /** {@code models/} in Sluice's cache ({@code $SLUICE_CACHE}, by default {@code ~/.cache/sluice}). */
    public static Path defaultCacheDir() {
        return NativeBuild.cacheRoot().resolve("models");
    }

    /** The cache file name: preset, weight type, seed and generator version. */
    public static String fileName(Preset preset, WeightType type, long seed) {
        return "random-" + preset.id() + "-" + type.id() + "-seed" + seed + "-v" + VERSION + ".gguf";
    }

    /** The model's file in the default cache, generated on first use. */
    public static Path ensure(Preset preset, WeightType type, long seed) {
        return ensure(defaultCacheDir(), preset, type, seed);
    }

    /**
     * The model's file in {@code cacheDir}, generated only when absent. Safe when several processes
     * ask at once: each writes a temporary file and renames it into place, so the loser of the race
     * replaces a complete file with an identical one.
     */
    public static Path ensure(Path cacheDir, Preset preset, WeightType type, long seed) {
        Path file = cacheDir.resolve(fileName(preset, type, seed));
        return Files.isRegularFile(file) ? file : generate(preset, type, seed, file).path();
    }

    /** Writes a preset's model to {@code out} (replacing any file there) on all available cores. */
    public static GeneratedModel generate(Preset preset, WeightType type, long seed, Path out) {
        return generate(preset.shape(), preset.id(), type, seed, out, Runtime.getRuntime().availableProcessors());
    }

    /**
     * A preset's model declaring {@code pooling} as its {@code <arch>.pooling_type} (an embedding
     * model's metadata), in the default cache, generated on first use. Its weights equal the
     * preset's without the key.
     */
    public static Path ensureEmbedding(Preset preset, WeightType type, long seed, Pooling pooling) {
        Path file = defaultCacheDir().resolve("random-" + preset.id() + "-" + type.id() + "-seed" + seed + "-pool-"
                + pooling.name().toLowerCase(java.util.Locale.ROOT) + "-v" + VERSION + ".gguf");
        return Files.isRegularFile(file) ? file
                : generate(preset.shape(), preset.id(), type, seed, file, Runtime.getRuntime().availableProcessors(), pooling).path();
    }

    /**
     * Writes a model of any shape to {@code out}, replacing any file there.
     *
     * @param name     goes into {@code general.name}, after "Sluice random-weights "
     * @param threads  threads generating and converting weights; the file does not depend on it
     */
    public static GeneratedModel generate(ModelShape shape, String name, WeightType type, long seed, Path out, int threads) {
        return generate(shape, name, type, seed, out, threads, null);
    }

    private static GeneratedModel generate(ModelShape shape, String name, WeightType type, long seed, Path out, int threads,
                                           Pooling pooling) {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive");
        }
        long start = System.nanoTime();
        List<TensorSpec> specs = shape.tensors();
        Map<String, GgmlType> types = new LinkedHashMap<>();
        List<String> fallbacks = new ArrayList<>();
        for (TensorSpec spec : specs) {
            GgmlType storage = spec.isMatrix() ? type.storageFor(spec.rowLength()) : GgmlType.F32;
            types.put(spec.name(), storage);
            if (spec.isMatrix() && storage != type.ggmlType()) {
                fallbacks.add(spec.name());
            }
        }
        try {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Path path;
            try (GgufWriter writer = GgufWriter.create(out);
                 ExecutorService pool = Executors.newFixedThreadPool(threads,
                         Thread.ofPlatform().daemon().name("testmodel-", 0).factory())) {
                writeMetadata(writer, shape, name, type, seed, fallbacks.size());
                if (pooling != null) {
                    writer.putUInt32(shape.architecture().ggufName() + ".pooling_type", pooling.ggufValue());
                }
                for (TensorSpec spec : specs) {
                    writer.addTensor(spec.name(), types.get(spec.name()), spec.shape());
                }
                for (TensorSpec spec : specs) {
                    writeTensor(writer, spec, types.get(spec.name()), new WeightInit(spec, shape, seed), pool, threads);
                }
                path = writer.commit();
            }
            GeneratedModel model = new GeneratedModel(path, shape.parameterCount(), Files.size(path), types, fallbacks);
            LOG.log(System.Logger.Level.INFO, () -> String.format("wrote %s: %,d parameters, %,d bytes, %d fallback tensors, %.1f s",
                    path, model.parameters(), model.bytes(), fallbacks.size(), (System.nanoTime() - start) / 1e9));
            return model;
        } catch (IOException e) {
            throw new UncheckedIOException("could not write test model " + out, e);
        }
    }

    private static void writeMetadata(GgufWriter w, ModelShape shape, String name, WeightType type, long seed,
                                      int fallbacks) {
        String arch = shape.architecture().ggufName();
        w.putString("general.architecture", arch);
        w.putString("general.name", "Sluice random-weights " + name);
        w.putString("general.description", "RANDOM WEIGHTS: written by Sluice's test-model generator (version "
                + VERSION + ", seed " + seed + ") in the shape '" + name + "'. It was never trained and generates"
                + " gibberish; it exists for tests, benchmarks and the demo mode."
                + (fallbacks == 0 ? "" : " " + fallbacks + " weight matrices are stored as Q8_0 or F16 because"
                + " their rows do not split into " + type.id() + " blocks."));
        w.putUInt32("general.file_type", type.fileType());
        w.putUInt32("general.quantization_version", QUANTIZATION_VERSION);
        w.putUInt32("general.alignment", GgufWriter.DEFAULT_ALIGNMENT);
        w.putUInt32(arch + ".context_length", shape.contextLength());
        w.putUInt32(arch + ".embedding_length", shape.embeddingLength());
        w.putUInt32(arch + ".block_count", shape.layers());
        w.putUInt32(arch + ".feed_forward_length", shape.feedForwardLength());
        w.putUInt32(arch + ".attention.head_count", shape.heads());
        w.putUInt32(arch + ".attention.head_count_kv", shape.kvHeads());
        w.putUInt32(arch + ".attention.key_length", shape.headDim());
        w.putUInt32(arch + ".attention.value_length", shape.headDim());
        w.putFloat32(arch + ".attention.layer_norm_rms_epsilon", shape.rmsEpsilon());
        w.putFloat32(arch + ".rope.freq_base", shape.ropeFreqBase());
        w.putUInt32(arch + ".rope.dimension_count", shape.headDim());
        w.putUInt32(arch + ".vocab_size", shape.vocabSize());
        w.put("sluice.testmodel.seed", GgufValueType.UINT64, seed);
        w.putUInt32("sluice.testmodel.generator_version", VERSION);
        copyTokenizer(w, shape.vocabulary());
        w.putString("tokenizer.chat_template", CHAT_TEMPLATE);
    }

    /** Every {@code tokenizer.*} key of the vocabulary file but its chat template, with the ChatML markers it lacks appended. */
    private static void copyTokenizer(GgufWriter w, Vocabulary vocabulary) {
        try (GgufFile vocab = GgufFile.open(vocabulary.path(), false)) {
            List<String> tokens = vocab.stringArray("tokenizer.ggml.tokens")
                    .orElseThrow(() -> new IllegalStateException(vocabulary.fileName() + " has no tokens"));
            List<String> missing = Vocabulary.CHAT_MARKERS.stream().filter(m -> !tokens.contains(m)).toList();
            if (tokens.size() != vocabulary.fileTokens() || tokens.size() + missing.size() != vocabulary.modelTokens()) {
                throw new IllegalStateException(vocabulary.fileName() + " has " + tokens.size() + " tokens, "
                        + missing.size() + " ChatML markers missing; " + vocabulary + " expects " + vocabulary.fileTokens()
                        + " and " + vocabulary.modelTokens() + " in all");
            }
            for (String key : vocab.keys()) {
                if (!key.startsWith("tokenizer.") || key.equals("tokenizer.chat_template")) {
                    continue;
                }
                GgufValueType type = vocab.type(key).orElseThrow();
                if (type != GgufValueType.ARRAY) {
                    w.put(key, type, vocab.value(key));
                    continue;
                }
                List<Object> values = new ArrayList<>((List<?>) vocab.value(key));
                for (int i = 0; i < missing.size(); i++) {
                    switch (key) {
                        case "tokenizer.ggml.tokens" -> values.add(missing.get(i));
                        case "tokenizer.ggml.token_type" -> values.add((long) CONTROL_TOKEN_TYPE);
                        case "tokenizer.ggml.scores" -> values.add(0.0);
                        default -> {
                            // merges and other arrays are not per token
                        }
                    }
                }
                w.putArray(key, vocab.arrayType(key).orElseThrow(), values);
            }
        }
    }

    /** Generates and converts the tensor's rows in slices on the pool, streaming them to the file in order. */
    private static void writeTensor(GgufWriter writer, TensorSpec spec, GgmlType type, WeightInit init,
                                    ExecutorService pool, int threads) throws IOException {
        long rows = spec.rows();
        int rowLength = Math.toIntExact(spec.rowLength());
        long rowBytes = type.rowBytes(rowLength);
        int rowsPerSlice = Math.max(1, SLICE_ELEMENTS / rowLength);
        long rowsPerBatch = (long) rowsPerSlice * threads * 2;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment batch = arena.allocate(Math.min(rows, rowsPerBatch) * rowBytes, 64);
            for (long first = 0; first < rows; first += rowsPerBatch) {
                long batchRows = Math.min(rowsPerBatch, rows - first);
                List<Callable<Void>> slices = new ArrayList<>();
                for (long s = 0; s < batchRows; s += rowsPerSlice) {
                    long firstRow = first + s;
                    int n = (int) Math.min(rowsPerSlice, batchRows - s);
                    MemorySegment target = batch.asSlice(s * rowBytes, n * rowBytes);
                    slices.add(() -> {
                        try (Arena scratch = Arena.ofConfined()) {
                            MemorySegment values = scratch.allocate((long) n * rowLength * Float.BYTES, 64);
                            init.fill(firstRow, n, values);
                            Quantizer.quantize(type, values, target, n, rowLength);
                        }
                        return null;
                    });
                }
                runAll(pool, slices);
                writer.writeTensorData(batch.asSlice(0, batchRows * rowBytes));
            }
        }
    }

    private static void runAll(ExecutorService pool, List<Callable<Void>> tasks) {
        try {
            for (Future<Void> done : pool.invokeAll(tasks)) {
                done.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while generating weights", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** {@code --preset NAME [--type f16] [--seed 0] [--out FILE]}: prints the model's path. */
    public static void main(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        try {
            for (int i = 0; i < args.length; i += 2) {
                String option = args[i];
                if (!List.of("--preset", "--type", "--seed", "--out").contains(option) || i + 1 >= args.length) {
                    throw new IllegalArgumentException(i + 1 >= args.length ? option + " needs a value" : "unknown option " + option);
                }
                options.put(option.substring(2), args[i + 1]);
            }
            if (!options.containsKey("preset")) {
                throw new IllegalArgumentException("--preset is required");
            }
            Preset preset = Preset.byId(options.get("preset"));
            WeightType type = WeightType.byId(options.getOrDefault("type", "f16"));
            long seed = Long.parseLong(options.getOrDefault("seed", "0"));
            Path path = options.containsKey("out")
                    ? generate(preset, type, seed, Path.of(options.get("out"))).path()
                    : ensure(preset, type, seed);
            System.out.println(path);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
        }
    }
}
