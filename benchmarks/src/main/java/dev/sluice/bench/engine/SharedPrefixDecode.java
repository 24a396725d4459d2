package dev.sluice.bench.engine;

import dev.sluice.bindings.SystemInfo;
import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.ggml.OpTimes;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.model.ModelWeights;
import dev.sluice.engine.runner.Batch;
import dev.sluice.engine.runner.CascadeMode;
import dev.sluice.engine.runner.ModelRunner;
import dev.sluice.engine.runner.StepTimings;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Decode steps of {@code batch} sequences that share a {@code prefix}-token prompt prefix (held
 * once, in shared blocks, as the prefix cache holds it) and each have {@code own} tokens of their
 * own, with shared-prefix (cascade) attention on and off: two runners over two identical caches,
 * their steps alternated one for one so both see the same machine noise. Reports medians and
 * where the time went (graph build + allocation, inputs, compute), and the share of KV rows each
 * gathers. With {@code -Dprofile=true}, each batch's step is then also profiled by kind of op
 * ({@link OpProfile}'s table; compare shares, not totals: each node pays a graph dispatch).
 *
 * <pre>java [-Dthreads=N] [-Dprofile=true] -cp benchmarks/target/benchmarks.jar dev.sluice.bench.engine.SharedPrefixDecode [preset] [type] [steps] [prefix] [own] [batch...]</pre>
 */
public final class SharedPrefixDecode {

    private static final int BLOCK = 16;
    private static final int PROFILED_STEPS = 5;

    private SharedPrefixDecode() {
    }

    public static void main(String[] args) {
        String preset = args.length > 0 ? args[0] : "smollm2-135m-shape";
        String type = args.length > 1 ? args[1] : "q8_0";
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int prefix = args.length > 3 ? Integer.parseInt(args[3]) : 1024;
        int own = args.length > 4 ? Integer.parseInt(args[4]) : 32;
        int[] batches = args.length > 5 ? Arrays.stream(args, 5, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 16, 32, 64};
        Path model = TestModelGenerator.ensure(Preset.byId(preset), WeightType.byId(type), 42);
        int threads = Integer.getInteger("threads", SystemInfo.physicalCores());
        System.out.printf("%s %s, %d threads, %d-token shared prefix + %d own tokens, medians of %d alternating steps%n",
                preset, type, threads, prefix, own, steps);
        System.out.println("| batch | cascade on (ms) | off (ms) | on / off speed | on: build+alloc / inputs / compute (ms) "
                + "| off: build+alloc / inputs / compute (ms) | KV rows gathered on / off |");
        System.out.println("|---:|---:|---:|---:|---|---|---|");
        try (Backend backend = Backend.cpu(threads); ModelWeights weights = ModelWeights.load(model, backend)) {
            for (int batch : batches) {
                Side on = new Side(weights, backend, CascadeMode.ON, batch, prefix, own);
                Side off = new Side(weights, backend, CascadeMode.OFF, batch, prefix, own);
                try (on; off) {
                    for (int i = 0; i < steps; i++) {
                        on.step(i);
                        off.step(i);
                    }
                    System.out.printf("| %d | %.1f | %.1f | %.2fx | %s | %s | %.0f%% / %.0f%% |%n", batch, on.median(0),
                            off.median(0), off.median(0) / on.median(0), on.profile(), off.profile(),
                            100.0 * on.gathered, 100.0 * off.gathered);
                    if (Boolean.getBoolean("profile")) {
                        OpTimes onOps = on.profileSteps(PROFILED_STEPS);
                        OpTimes offOps = off.profileSteps(PROFILED_STEPS);
                        System.out.printf("%nbatch %d, by kind of op (ms per step, %d profiled steps each):%n", batch, PROFILED_STEPS);
                        OpProfile.print("cascade on", onOps, "off", offOps, PROFILED_STEPS);
                        System.out.println();
                    }
                }
            }
        }
    }

    /** One runner and cache with the batch prefilled, stepping the same decode step again and again. */
    private static final class Side implements AutoCloseable {
        private final KvCache cache;
        private final ModelRunner runner;
        private final Batch decode = new Batch();
        private final long[][] nanos;
        private double gathered;

        Side(ModelWeights weights, Backend backend, CascadeMode mode, int batch, int prefix, int own) {
            int prefixBlocks = prefix / BLOCK;
            int ownBlocks = (own + 1) / BLOCK + 2;
            cache = new KvCache(weights.config(), backend, BLOCK, prefixBlocks + batch * ownBlocks, KvCache.CacheType.F16);
            runner = new ModelRunner(weights, cache, backend);
            runner.cascade(mode);
            nanos = new long[4][];
            int[] prompt = EngineStepFixture.prompt(prefix + own + 1);
            int[][] tables = new int[batch][prefixBlocks + ownBlocks];
            for (int s = 0; s < batch; s++) {
                for (int b = 0; b < tables[s].length; b++) {
                    tables[s][b] = b < prefixBlocks ? b : prefixBlocks + s * ownBlocks + (b - prefixBlocks);
                }
            }
            Batch setup = new Batch();
            setup.add(prompt, 0, prefixBlocks * BLOCK, 0, tables[0], prefixBlocks, Batch.Logits.LAST);
            runner.forward(setup);
            int p = prefixBlocks * BLOCK;
            for (int s = 0; s < batch; s++) {
                int[] mine = prompt.clone();
                mine[p] = 1000 + s; // each sequence's own part differs
                setup.clear();
                setup.add(mine, p, own, p, tables[s], (p + own) / BLOCK + 1, Batch.Logits.LAST);
                runner.forward(setup);
                decode.addToken(prompt[p + own], p + own, tables[s], (p + own) / BLOCK + 1);
            }
        }

        void step(int i) {
            runner.forward(decode);
            StepTimings t = runner.lastTimings();
            if (nanos[0] == null) {
                for (int k = 0; k < 4; k++) {
                    nanos[k] = new long[0];
                }
            }
            append(0, t.totalNanos());
            append(1, t.buildNanos() + t.allocateNanos());
            append(2, t.inputNanos());
            append(3, t.computeNanos());
            gathered = t.contextRows() == 0 ? 0 : (double) t.gatheredRows() / t.contextRows();
        }

        /** Runs {@code steps} more steps node by node and returns where their compute went. */
        OpTimes profileSteps(int steps) {
            OpTimes times = new OpTimes();
            runner.profile(times);
            for (int i = 0; i < steps; i++) {
                runner.forward(decode);
            }
            runner.profile(null);
            return times;
        }

        private void append(int k, long value) {
            nanos[k] = Arrays.copyOf(nanos[k], nanos[k].length + 1);
            nanos[k][nanos[k].length - 1] = value;
        }

        double median(int k) {
            long[] sorted = nanos[k].clone();
            Arrays.sort(sorted);
            return sorted[sorted.length / 2] / 1e6;
        }

        String profile() {
            return String.format("%.1f / %.1f / %.1f", median(1), median(2), median(3));
        }

        @Override
        public void close() {
            runner.close();
            cache.close();
        }
    }
}
