package dev.sluice.bench.engine;

import dev.sluice.bindings.SystemInfo;
import dev.sluice.bindings.llama.LlamaBatch;
import dev.sluice.engine.runner.Batch;
import dev.sluice.engine.runner.StepTimings;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * A fresh prompt's prefill in Sluice and in llama.cpp's {@code llama_decode}, alternated one for
 * one in the same process on the same GGUF and threads (as {@link InterleavedDecode} does for
 * decode steps), with where Sluice's step spent its time: the time to first token of one request
 * alone is this step plus sampling and HTTP.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar dev.sluice.bench.engine.InterleavedPrefill [preset] [type] [steps] [tokens...]</pre>
 */
public final class InterleavedPrefill {

    private InterleavedPrefill() {
    }

    public static void main(String[] args) {
        String preset = args.length > 0 ? args[0] : "smollm2-135m-shape";
        String type = args.length > 1 ? args[1] : "q8_0";
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 40;
        int[] lengths = args.length > 3 ? Arrays.stream(args, 3, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {32, 128, 512};
        Path model = TestModelGenerator.ensure(Preset.byId(preset), WeightType.byId(type), 42);
        int threads = SystemInfo.physicalCores();
        System.out.printf("%s %s, %d threads, medians of %d alternating prefills of a fresh prompt%n", preset, type,
                threads, steps);
        System.out.println("| tokens | Sluice (ms) | build | alloc | inputs | compute | llama_decode (ms) | Sluice speed / llama.cpp |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (int tokens : lengths) {
            run(model, threads, tokens, steps);
        }
    }

    private static void run(Path model, int threads, int tokens, int steps) {
        int[] prompt = EngineStepFixture.prompt(tokens);
        try (EngineStepFixture fixture = new EngineStepFixture(model, threads, 0, tokens);
             LlamaBatch llama = new LlamaBatch(tokens)) {
            for (int i = 0; i < tokens; i++) {
                llama.add(prompt[i], i, fixture.spareSequence(), i == tokens - 1);
            }
            long[] sluice = new long[steps];
            long[] reference = new long[steps];
            long[][] parts = new long[4][steps];
            for (int i = 0; i < steps; i++) {
                Batch step = fixture.sparePrefill(prompt, tokens);
                long t0 = System.nanoTime();
                fixture.sluiceStep(step);
                long t1 = System.nanoTime();
                fixture.llamaSpareStep(llama);
                long t2 = System.nanoTime();
                sluice[i] = t1 - t0;
                reference[i] = t2 - t1;
                StepTimings t = fixture.lastTimings();
                parts[0][i] = t.buildNanos();
                parts[1][i] = t.allocateNanos();
                parts[2][i] = t.inputNanos();
                parts[3][i] = t.computeNanos();
            }
            double s = median(sluice);
            double r = median(reference);
            System.out.printf("| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2fx |%n", tokens, s, median(parts[0]),
                    median(parts[1]), median(parts[2]), median(parts[3]), r, r / s);
        }
    }

    /** The median of {@code nanos}, in milliseconds. */
    static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2] / 1e6;
    }
}
