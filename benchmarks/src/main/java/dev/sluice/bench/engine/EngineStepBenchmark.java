package dev.sluice.bench.engine;

import dev.sluice.bindings.SystemInfo;
import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.llama.LlamaBatch;
import dev.sluice.bindings.llama.LlamaContext;
import dev.sluice.bindings.llama.LlamaModel;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.model.ModelWeights;
import dev.sluice.engine.runner.Batch;
import dev.sluice.engine.runner.Logits;
import dev.sluice.engine.runner.ModelRunner;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One engine step against llama.cpp's own {@code llama_decode} on the same GGUF, threads and
 * machine, in the same run: a decode step of {@code batch} sequences (each with a 128-token
 * context), and a 512-token prefill of one sequence. Each invocation re-runs the same step at
 * the same positions (ours overwrites the same KV slots; llama.cpp's positions are removed again
 * with {@code llama_memory_seq_rm}, a cheap bookkeeping call), so every invocation does the same
 * work.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class EngineStepBenchmark {

    private static final int CONTEXT = 128;
    private static final int PREFILL = 512;
    private static final int BLOCK = 16;

    @Param({"smollm2-135m-shape"})
    public String preset;

    @Param({"q8_0"})
    public String type;

    @Param({"1", "8", "32"})
    public int batch;

    private Backend backend;
    private ModelWeights weights;
    private KvCache cache;
    private ModelRunner runner;
    private Batch decode;
    private Batch prefill;
    private int[][] tables;

    private LlamaModel llamaModel;
    private LlamaContext llama;
    private LlamaBatch llamaDecode;
    private LlamaBatch llamaPrefill;

    @Setup(Level.Trial)
    public void setUp() {
        Path model = TestModelGenerator.ensure(Preset.byId(preset), WeightType.byId(type), 42);
        int threads = SystemInfo.physicalCores();
        int[] prompt = new int[PREFILL];
        for (int i = 0; i < PREFILL; i++) {
            prompt[i] = 1000 + (i * 37) % 20000;
        }

        backend = Backend.cpu(threads);
        weights = ModelWeights.load(model, backend);
        int blocksPerSequence = (PREFILL + BLOCK) / BLOCK + 1;
        cache = new KvCache(weights.config(), backend, BLOCK, (batch + 1) * blocksPerSequence, KvCache.CacheType.F16);
        runner = new ModelRunner(weights, cache, backend);
        tables = new int[batch + 1][blocksPerSequence];
        for (int s = 0; s <= batch; s++) {
            for (int b = 0; b < blocksPerSequence; b++) {
                tables[s][b] = s * blocksPerSequence + b;
            }
        }
        Batch setup = new Batch();
        for (int s = 0; s < batch; s++) {
            setup.clear();
            setup.add(prompt, 0, CONTEXT, 0, tables[s], CONTEXT / BLOCK, Batch.Logits.LAST);
            runner.forward(setup);
        }
        decode = new Batch();
        for (int s = 0; s < batch; s++) {
            decode.addToken(prompt[CONTEXT], CONTEXT, tables[s], CONTEXT / BLOCK + 1);
        }
        prefill = new Batch();
        prefill.add(prompt, 0, PREFILL, 0, tables[batch], PREFILL / BLOCK, Batch.Logits.LAST);

        llamaModel = LlamaModel.load(model, LlamaModel.Options.CPU);
        llama = LlamaContext.create(llamaModel, new LlamaContext.Options(Math.max(batch, 1) * 1024, PREFILL,
                batch + 1, threads, LlamaContext.FlashAttention.ON));
        llamaPrefill = new LlamaBatch(PREFILL);
        for (int s = 0; s < batch; s++) {
            llamaPrefill.clear();
            for (int i = 0; i < CONTEXT; i++) {
                llamaPrefill.add(prompt[i], i, s, i == CONTEXT - 1);
            }
            llama.decode(llamaPrefill);
        }
        llamaDecode = new LlamaBatch(batch);
        for (int s = 0; s < batch; s++) {
            llamaDecode.add(prompt[CONTEXT], CONTEXT, s, true);
        }
        llamaPrefill.clear();
        for (int i = 0; i < PREFILL; i++) {
            llamaPrefill.add(prompt[i], i, batch, i == PREFILL - 1);
        }
    }

    @Benchmark
    public Logits sluiceDecodeStep() {
        return runner.forward(decode);
    }

    @Benchmark
    public void llamaDecodeStep() {
        llama.decode(llamaDecode);
        for (int s = 0; s < batch; s++) {
            llama.removeSequencePositions(s, CONTEXT);
        }
    }

    @Benchmark
    public Logits sluicePrefill512() {
        return runner.forward(prefill);
    }

    @Benchmark
    public void llamaPrefill512() {
        llama.decode(llamaPrefill);
        llama.removeSequencePositions(batch, 0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        llamaDecode.close();
        llamaPrefill.close();
        llamaModel.close();
        runner.close();
        cache.close();
        weights.close();
        backend.close();
    }
}
