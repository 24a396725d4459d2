package dev.sluice.bench.scheduler;

import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvBlock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Block allocate + release must not depend on the pool size (an O(1) free list): the time per
 * pair should stay flat from 1k to 1M blocks. Half the pool is held by "sequences" and a quarter of
 * the free blocks are prefix-cached, as in a busy server.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class BlockPoolBenchmark {

    @Param({"1000", "10000", "100000", "1000000"})
    public int blocks;

    private BlockPool pool;
    private final ArrayDeque<KvBlock> held = new ArrayDeque<>();
    private long nextHash = 1;

    @Setup
    public void setUp() {
        pool = new BlockPool(blocks);
        held.clear();
        for (int i = 0; i < blocks / 2; i++) {
            KvBlock block = pool.allocate();
            if (i % 2 == 0) {
                pool.cache(block, nextHash++, new int[] {i}, -1, 0L);
            }
            held.add(block);
        }
        for (int i = 0; i < blocks / 4; i++) {
            pool.release(held.poll()); // cached and uncached blocks go back to the free list
        }
    }

    @Benchmark
    public KvBlock allocateAndRelease() {
        KvBlock block = pool.allocate();
        pool.release(held.poll());
        held.add(block);
        return block;
    }
}
