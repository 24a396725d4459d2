package dev.sluice.bench.engine;

import dev.sluice.bindings.SystemInfo;
import dev.sluice.engine.runner.StepTimings;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Decode steps of Sluice and llama.cpp's {@code llama_decode} alternated one for one in the same
 * process, on the same GGUF and threads: both see the same machine noise at the same moments, so
 * the ratio of their medians is stable where separate JMH runs on a shared machine drift apart.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar dev.sluice.bench.engine.InterleavedDecode [preset] [type] [steps] [batch...]</pre>
 */
public final class InterleavedDecode {

    private InterleavedDecode() {
    }

    public static void main(String[] args) {
        String preset = args.length > 0 ? args[0] : "smollm2-135m-shape";
        String type = args.length > 1 ? args[1] : "q8_0";
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        int[] batches = args.length > 3 ? Arrays.stream(args, 3, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 8, 32};
        Path model = TestModelGenerator.ensure(Preset.byId(preset), WeightType.byId(type), 42);
        int threads = SystemInfo.physicalCores();
        System.out.printf("%s %s, %d threads, context %d, medians of %d alternating steps%n", preset, type, threads,
                EngineStepFixture.CONTEXT, steps);
        System.out.println("| batch | Sluice (ms) | build | allocate | inputs | compute | llama_decode (ms) | Sluice speed / llama.cpp |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (int batch : batches) {
            double[] r = run(model, threads, batch, steps);
            System.out.printf("| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2fx |%n", batch, r[0], r[2], r[3], r[4],
                    r[5], r[1], r[1] / r[0]);
        }
    }

    /** Median milliseconds per step: {Sluice, llama.cpp, Sluice's build, allocate, inputs, compute}. */
    static double[] run(Path model, int threads, int batch, int steps) {
        try (EngineStepFixture fixture = new EngineStepFixture(model, threads, batch, 0)) {
            long[] sluice = new long[steps];
            long[] reference = new long[steps];
            long[][] parts = new long[4][steps];
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                fixture.sluiceDecodeStep();
                long t1 = System.nanoTime();
                fixture.llamaDecodeStep();
                long t2 = System.nanoTime();
                sluice[i] = t1 - t0;
                reference[i] = t2 - t1;
                StepTimings t = fixture.lastTimings();
                parts[0][i] = t.buildNanos();
                parts[1][i] = t.allocateNanos();
                parts[2][i] = t.inputNanos();
                parts[3][i] = t.computeNanos();
            }
            return new double[] {InterleavedPrefill.median(sluice), InterleavedPrefill.median(reference),
                    InterleavedPrefill.median(parts[0]), InterleavedPrefill.median(parts[1]),
                    InterleavedPrefill.median(parts[2]), InterleavedPrefill.median(parts[3])};
        }
    }
}
