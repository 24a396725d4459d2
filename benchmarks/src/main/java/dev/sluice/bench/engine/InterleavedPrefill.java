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
 * <p>With {@code -Dcached=N} the prompt follows N tokens already in the KV cache (computed once,
 * before the measured steps, in both): a chat's next turn, or a request behind a cached system
 * prompt, whose attention reads the whole context.
 *
 * <pre>java [-Dcached=N] -cp benchmarks/target/benchmarks.jar dev.sluice.bench.engine.InterleavedPrefill [preset] [type] [steps] [tokens...]</pre>
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
        System.out.printf("%s %s, %d threads, medians of %d alternating prefills of a prompt after %d cached tokens%n",
                preset, type, threads, steps, Integer.getInteger("cached", 0));
        System.out.println("| tokens | Sluice (ms) | build | alloc | inputs | compute | llama_decode (ms) | Sluice speed / llama.cpp |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (int tokens : lengths) {
            run(model, threads, tokens, steps);
        }
    }

    private static void run(Path model, int threads, int tokens, int steps) {
        int cached = Integer.getInteger("cached", 0);
        int[] prompt = EngineStepFixture.prompt(cached + tokens);
        try (EngineStepFixture fixture = new EngineStepFixture(model, threads, 0, cached + tokens);
             LlamaBatch llama = new LlamaBatch(Math.max(cached, tokens))) {
            if (cached > 0) {
                fixture.sluiceStep(fixture.sparePrefill(prompt, 0, cached));
                for (int i = 0; i < cached; i++) {
                    llama.add(prompt[i], i, fixture.spareSequence(), i == cached - 1);
                }
                fixture.llamaSpareStep(llama, cached);
                llama.clear();
            }
            for (int i = cached; i < cached + tokens; i++) {
                llama.add(prompt[i], i, fixture.spareSequence(), i == cached + tokens - 1);
            }
            long[] sluice = new long[steps];
            long[] reference = new long[steps];
            long[][] parts = new long[4][steps];
            for (int i = 0; i < steps; i++) {
                Batch step = fixture.sparePrefill(prompt, cached, tokens);
                long t0 = System.nanoTime();
                fixture.sluiceStep(step);
                long t1 = System.nanoTime();
                fixture.llamaSpareStep(llama, cached);
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
