package dev.sluice.bench.engine;

import dev.sluice.bindings.NativeBuild;
import dev.sluice.bindings.llama.LlamaModel;
import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.engine.sampling.SamplingWorkspace;
import dev.sluice.engine.sampling.Sampler;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Sampling one decode step of {@code rows} sequences over Qwen2's 151,936-token vocabulary, the
 * way the engine does after the forward pass: every row through its own sequence's sampler. Its
 * time against the step's compute time is what sampling costs a step.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class SamplingBenchmark {

    @Param({"64"})
    public int rows;

    /** greedy, temperature-1 (OpenAI's default), top-p-0.9 (llama.cpp's samplers), penalties (Java path on a copy) */
    @Param({"greedy", "temperature-1", "top-p-0.9", "penalties"})
    public String params;

    private LlamaModel vocab;
    private SamplingWorkspace workspace;
    private Sampler[] samplers;
    private Arena arena;
    private MemorySegment[] logits;

    @Setup(Level.Trial)
    public void setUp() {
        vocab = LlamaModel.loadVocabOnly(NativeBuild.sourceDir().resolve("models").resolve("ggml-vocab-qwen2.gguf"));
        int vocabSize = vocab.vocab().size();
        workspace = new SamplingWorkspace(vocab.vocab());
        samplers = new Sampler[rows];
        SamplingParams p = switch (params) {
            case "greedy" -> SamplingParams.GREEDY;
            case "temperature-1" -> SamplingParams.builder().temperature(1f).seed(1).build();
            case "top-p-0.9" -> SamplingParams.builder().temperature(1f).topP(0.9f).seed(1).build();
            case "penalties" -> SamplingParams.builder().temperature(0.8f).presencePenalty(0.5f).frequencyPenalty(0.5f)
                    .repetitionPenalty(1.1f).seed(1).build();
            default -> throw new IllegalArgumentException(params);
        };
        Random random = new Random(1);
        arena = Arena.ofConfined();
        logits = new MemorySegment[rows];
        for (int r = 0; r < rows; r++) {
            samplers[r] = new Sampler(p, workspace);
            samplers[r].acceptPrompt(random.ints(200, 0, vocabSize).toArray());
            logits[r] = arena.allocate(ValueLayout.JAVA_FLOAT, vocabSize);
            for (int i = 0; i < vocabSize; i++) {
                logits[r].setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (random.nextGaussian() * 3));
            }
        }
    }

    @Benchmark
    public int sampleStep() {
        int sum = 0;
        for (int r = 0; r < rows; r++) {
            int token = samplers[r].sample(logits[r]).token();
            samplers[r].accept(token);
            sum += token;
        }
        return sum;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Sampler sampler : samplers) {
            sampler.close();
        }
        workspace.close();
        arena.close();
        vocab.close();
    }
}
