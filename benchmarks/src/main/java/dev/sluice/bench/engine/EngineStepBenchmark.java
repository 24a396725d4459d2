package dev.sluice.bench.engine;

import dev.sluice.bindings.SystemInfo;
import dev.sluice.bindings.llama.LlamaBatch;
import dev.sluice.engine.runner.Batch;
import dev.sluice.engine.runner.Logits;
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
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class EngineStepBenchmark {

    private static final int PREFILL = 512;

    @Param({"smollm2-135m-shape"})
    public String preset;

    @Param({"q8_0"})
    public String type;

    @Param({"1", "8", "32"})
    public int batch;

    private EngineStepFixture fixture;
    private Batch prefill;
    private LlamaBatch llamaPrefill;

    @Setup(Level.Trial)
    public void setUp() {
        Path model = TestModelGenerator.ensure(Preset.byId(preset), WeightType.byId(type), 42);
        fixture = new EngineStepFixture(model, SystemInfo.physicalCores(), batch, PREFILL);
        int[] prompt = EngineStepFixture.prompt(PREFILL);
        prefill = fixture.sparePrefill(prompt, PREFILL);
        llamaPrefill = new LlamaBatch(PREFILL);
        for (int i = 0; i < PREFILL; i++) {
            llamaPrefill.add(prompt[i], i, fixture.spareSequence(), i == PREFILL - 1);
        }
    }

    @Benchmark
    public Logits sluiceDecodeStep() {
        return fixture.sluiceDecodeStep();
    }

    @Benchmark
    public void llamaDecodeStep() {
        fixture.llamaDecodeStep();
    }

    @Benchmark
    public Logits sluicePrefill512() {
        return fixture.sluiceStep(prefill);
    }

    @Benchmark
    public void llamaPrefill512() {
        fixture.llamaSpareStep(llamaPrefill);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        llamaPrefill.close();
        fixture.close();
    }
}
