package dev.sluice.bench.scheduler;

import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.scheduler.Request;
import dev.sluice.scheduler.Scheduler;
import dev.sluice.scheduler.SchedulerConfig;
import dev.sluice.scheduler.SchedulerStep;
import dev.sluice.scheduler.Sequence;
import dev.sluice.scheduler.StopConditions;
import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvCacheManager;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One scheduling step with {@code running} sequences all decoding (no model: the scheduler's own
 * cost per step, which the engine pays on top of the forward pass). Each invocation plans a step,
 * marks its tokens computed (caching filled blocks) and appends one token per sequence.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 200, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 10, time = 200, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class SchedulerStepBenchmark {

    private static final int BLOCK_SIZE = 16;

    @Param({"256"})
    public int running;

    private Scheduler scheduler;

    @Setup(Level.Iteration)
    public void setUp() {
        // Room for every sequence to grow for a whole measurement iteration (200 ms).
        BlockPool pool = new BlockPool(running * 512);
        KvCacheManager kv = new KvCacheManager(pool, BLOCK_SIZE, true);
        scheduler = new Scheduler(new SchedulerConfig(2048, running, 1 << 20, true, 0), kv);
        for (int i = 0; i < running; i++) {
            int[] prompt = new int[64];
            for (int t = 0; t < prompt.length; t++) {
                prompt[t] = 3 + (i * 131 + t * 7) % 30000;
            }
            scheduler.add(new Request("b" + i, prompt, SamplingParams.GREEDY,
                    StopConditions.maxTokens(60_000), 1, 0, 0));
        }
        // Prefill everyone, so every measured step is a pure decode step.
        while (true) {
            SchedulerStep step = scheduler.schedule();
            scheduler.complete(step);
            boolean allDecoding = true;
            for (Sequence seq : step.sequences()) {
                if (seq.pending() == 0) {
                    scheduler.append(seq, 42);
                } else {
                    allDecoding = false;
                }
            }
            if (allDecoding && scheduler.runningCount() == running && scheduler.waitingCount() == 0) {
                break;
            }
        }
    }

    @Benchmark
    public int step() {
        SchedulerStep step = scheduler.schedule();
        scheduler.complete(step);
        List<Sequence> sequences = step.sequences();
        for (int i = 0; i < sequences.size(); i++) {
            scheduler.append(sequences.get(i), 42);
        }
        return step.tokenCount();
    }
}
