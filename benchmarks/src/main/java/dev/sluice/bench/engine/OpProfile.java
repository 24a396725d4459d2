package dev.sluice.bench.engine;

import dev.sluice.bindings.ggml.OpTimes;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A decode step's compute by kind of op, Sluice's graph against llama.cpp's, on the same GGUF
 * and sequences as {@link InterleavedDecode}: both graphs are computed one node at a time
 * ({@code NodeProfiler} for ours, llama.cpp's eval callback for theirs) and each node's time is
 * summed by its op. One thread by default ({@code -Dthreads=N}): with more, every node's graph
 * wakes the pool's sleeping workers, and that wake-up, not the op, dominates small nodes. The
 * rows say which ops differ; the step's real time, on all threads, is {@link InterleavedDecode}'s.
 *
 * <pre>java [-Dthreads=N] [-Dcontext=N] -cp benchmarks/target/benchmarks.jar dev.sluice.bench.engine.OpProfile [preset] [type] [steps] [batch...]</pre>
 */
public final class OpProfile {

    private static final int WARMUP = 10;

    private OpProfile() {
    }

    public static void main(String[] args) {
        String preset = args.length > 0 ? args[0] : "smollm2-135m-shape";
        String type = args.length > 1 ? args[1] : "q8_0";
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        int[] batches = args.length > 3 ? Arrays.stream(args, 3, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 32};
        Path model = TestModelGenerator.ensure(Preset.byId(preset), WeightType.byId(type), 42);
        int threads = Integer.getInteger("threads", 1);
        for (int batch : batches) {
            System.out.printf("%n%s %s, batch %d, context %d, %d threads, %d profiled steps each (ms per step)%n", preset, type,
                    batch, EngineStepFixture.CONTEXT, threads, steps);
            OpTimes ours = new OpTimes();
            OpTimes theirs = new OpTimes();
            try (EngineStepFixture fixture = new EngineStepFixture(model, threads, batch, 0, theirs)) {
                for (int i = 0; i < WARMUP; i++) {
                    fixture.sluiceDecodeStep();
                    fixture.llamaDecodeStep();
                }
                theirs.clear();
                fixture.profileSluice(ours);
                for (int i = 0; i < steps; i++) {
                    fixture.sluiceDecodeStep();
                    fixture.llamaDecodeStep();
                }
                fixture.profileSluice(null);
            }
            print("Sluice", ours, "llama.cpp", theirs, steps);
        }
    }

    /** Prints two profiles of {@code steps} steps each side by side, by kind of op, most time first. */
    static void print(String labelA, OpTimes ours, String labelB, OpTimes theirs, int steps) {
        Map<String, OpTimes.Entry> a = ours.entries();
        Map<String, OpTimes.Entry> b = theirs.entries();
        Set<String> ops = new LinkedHashSet<>(a.keySet());
        ops.addAll(b.keySet());
        System.out.printf("| op | %s | nodes | %s | nodes | %s time / %s |%n", labelA, labelB, labelA, labelB);
        System.out.println("|---|---:|---:|---:|---:|---:|");
        OpTimes.Entry none = new OpTimes.Entry(0, 0);
        ops.stream()
                .sorted((x, y) -> Long.compare(a.getOrDefault(y, none).nanos() + b.getOrDefault(y, none).nanos(),
                        a.getOrDefault(x, none).nanos() + b.getOrDefault(x, none).nanos()))
                .forEach(op -> row(op, a.getOrDefault(op, none), b.getOrDefault(op, none), steps));
        row("total", new OpTimes.Entry(ours.totalNanos(), a.values().stream().mapToLong(OpTimes.Entry::nodes).sum()),
                new OpTimes.Entry(theirs.totalNanos(), b.values().stream().mapToLong(OpTimes.Entry::nodes).sum()), steps);
    }

    private static void row(String op, OpTimes.Entry ours, OpTimes.Entry theirs, int steps) {
        String ratio = ours.nanos() == 0 || theirs.nanos() == 0 ? "-" : String.format("%.2f", (double) ours.nanos() / theirs.nanos());
        System.out.printf("| %s | %.3f | %d | %.3f | %d | %s |%n", op, ours.nanos() / 1e6 / steps, ours.nodes() / steps,
                theirs.nanos() / 1e6 / steps, theirs.nodes() / steps, ratio);
    }
}
