package dev.sluice.bench.roofline;

import dev.sluice.bindings.SystemInfo;
import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.ggml.GgmlContext;
import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.bindings.ggml.Graph;
import dev.sluice.bindings.ggml.GraphAllocator;
import dev.sluice.bindings.ggml.Quantizer;
import dev.sluice.bindings.ggml.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * This machine's physical limits, so serving numbers can be read as a fraction of them:
 * <ul>
 *   <li><b>memory bandwidth</b>: large buffer copies on {@code threads} threads (bytes read +
 *       written per second). A batch-1 decode step must read every weight once, so
 *       {@code bandwidth / model bytes} bounds batch-1 tokens/s;</li>
 *   <li><b>matmul rate</b>: ggml's own {@code mul_mat} on the CPU backend, Q8_0 weights times F32
 *       activations at a batch of 256 rows (2·m·n·k FLOPs per product). Batched decoding and
 *       prefill are bounded by {@code rate / (2 × parameters)} tokens/s.</li>
 * </ul>
 * {@code java ... dev.sluice.bench.roofline.Roofline [threads]} prints both as JSON.
 */
public final class Roofline {

    private Roofline() {
    }

    public record Result(int threads, double copyGBps, double matmulGflops) {
        public String toJson() {
            return String.format(Locale.ROOT, "{\"threads\": %d, \"memory_bandwidth_gb_s\": %.2f, \"q8_0_matmul_gflop_s\": %.2f}",
                    threads, copyGBps, matmulGflops);
        }
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : SystemInfo.physicalCores();
        System.out.println(measure(threads).toJson());
    }

    public static Result measure(int threads) throws InterruptedException {
        return new Result(threads, copyBandwidth(threads), matmulRate(threads));
    }

    /** GB/s of a multi-threaded copy of 512 MiB (counting bytes read and bytes written), best of 5. */
    static double copyBandwidth(int threads) throws InterruptedException {
        long bytes = 512L << 20;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocate(bytes, 4096);
            MemorySegment dst = arena.allocate(bytes, 4096);
            src.fill((byte) 1);
            dst.fill((byte) 2);
            double best = 0;
            for (int round = 0; round < 5; round++) {
                long start = System.nanoTime();
                List<Thread> workers = new ArrayList<>();
                long part = bytes / threads;
                for (int t = 0; t < threads; t++) {
                    long offset = t * part;
                    long length = t == threads - 1 ? bytes - offset : part;
                    workers.add(Thread.ofPlatform().start(() -> MemorySegment.copy(src, offset, dst, offset, length)));
                }
                for (Thread w : workers) {
                    w.join();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                best = Math.max(best, 2.0 * bytes / seconds / 1e9);
            }
            return best;
        }
    }

    /** GFLOP/s of ggml's Q8_0 × F32 matrix product (4096 × 1024 weights, 256 rows), best of 5. */
    static double matmulRate(int threads) {
        int k = 4096;
        int m = 1024;
        int n = 256;
        try (Backend cpu = Backend.cpu(threads);
             GgmlContext ctx = GgmlContext.create(8, 16);
             GraphAllocator allocator = GraphAllocator.forBackend(cpu);
             Arena arena = Arena.ofConfined()) {
            Tensor w = ctx.newTensor(GgmlType.Q8_0, k, m).asInput();
            Tensor x = ctx.newTensor(GgmlType.F32, k, n).asInput();
            Tensor y = ctx.mulMat(w, x).asOutput();
            Graph graph = ctx.newGraph(16).expand(y);
            allocator.allocate(graph);
            SplittableRandom random = new SplittableRandom(1);
            MemorySegment weights = arena.allocate((long) k * m * Float.BYTES, 64);
            for (long i = 0; i < (long) k * m; i++) {
                weights.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
            }
            MemorySegment quantized = arena.allocate(w.bytes(), 64);
            Quantizer.quantize(GgmlType.Q8_0, weights, quantized, m, k);
            w.write(quantized, 0);
            MemorySegment input = arena.allocate((long) k * n * Float.BYTES, 64);
            for (long i = 0; i < (long) k * n; i++) {
                input.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
            }
            x.write(input, 0);
            cpu.compute(graph); // warm-up
            double best = 0;
            for (int round = 0; round < 5; round++) {
                long start = System.nanoTime();
                cpu.compute(graph);
                double seconds = (System.nanoTime() - start) / 1e9;
                best = Math.max(best, 2.0 * m * n * k / seconds / 1e9);
            }
            return best;
        }
    }
}
