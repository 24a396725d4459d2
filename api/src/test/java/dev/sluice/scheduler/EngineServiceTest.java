package dev.sluice.scheduler;

import dev.sluice.bindings.llama.LlamaContext;
import dev.sluice.bindings.llama.LlamaReference;
import dev.sluice.engine.Engine;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.kv.KvCacheBudget;
import dev.sluice.engine.model.ModelConfig;
import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;
import dev.sluice.testing.GreedyParity;
import dev.sluice.testing.TestDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole engine under the scheduler, on a generated tiny model, against llama.cpp's own greedy
 * decoding of each request alone (up to a float tie where Sluice batched or reused it: {@link GreedyParity}).
 */
class EngineServiceTest {

    private static final int BLOCK = 16;
    private static Path model;
    private static LlamaReference reference;

    @BeforeAll
    static void open() {
        model = TestModelGenerator.ensure(Preset.TINY_QWEN2, WeightType.F16, 11);
        reference = LlamaReference.open(model, TestDevice.referenceModel(), LlamaContext.Options.defaults(2048).withThreads(2)
                .withFlashAttention(LlamaContext.FlashAttention.ON));
    }

    @AfterAll
    static void close() {
        reference.close();
    }

    private static EngineService start(long kvBytes, long swapBytes, SchedulerConfig scheduling) {
        Engine engine = Engine.load(Engine.Options.defaults(model).withThreads(2).withBlockSize(BLOCK)
                .withDevice(TestDevice.gpu() ? Engine.Device.GPU : Engine.Device.CPU)
                .withKvBudget(KvCacheBudget.ofBytes(kvBytes)).withSwapBytes(swapBytes));
        return EngineService.start(engine, scheduling);
    }

    private static long bytesFor(int tokens) {
        ModelConfig config;
        try (dev.sluice.bindings.gguf.GgufFile gguf = dev.sluice.bindings.gguf.GgufFile.open(model, false)) {
            config = ModelConfig.from(gguf);
        }
        return KvCache.bytesPerToken(config, KvCache.CacheType.F16) * tokens;
    }

    private static int[] randomPrompt(Random random, int length) {
        return random.ints(length, 100, 20_000).toArray();
    }

    private static Request greedy(String id, int[] prompt, int maxTokens) {
        return new Request(id, prompt, SamplingParams.GREEDY, new StopConditions(maxTokens, true, null, null), 1, 0, 0);
    }

    private static int[] drain(Request request) throws InterruptedException {
        List<Integer> tokens = new ArrayList<>();
        while (true) {
            RequestUpdate update = request.stream().next(30, TimeUnit.SECONDS);
            if (update == null) {
                throw new AssertionError("request " + request.id() + " made no progress for 30 s");
            }
            assertEquals(null, update.error());
            for (SequenceDelta d : update.deltas()) {
                for (int t : d.tokens()) {
                    tokens.add(t);
                }
            }
            if (update.done()) {
                return tokens.stream().mapToInt(Integer::intValue).toArray();
            }
        }
    }

    @Test
    void thirtyTwoConcurrentRequestsEachProduceWhatTheyProduceAlone() throws Exception {
        Random random = new Random(1);
        try (EngineService service = start(bytesFor(8192), 0, SchedulerConfig.defaults(2048).withMaxBatchedTokens(256))) {
            List<Request> requests = new ArrayList<>();
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                int[] prompt = randomPrompt(random, 3 + random.nextInt(60));
                prompts.add(prompt);
                requests.add(service.submit(greedy("c" + i, prompt, 12)));
            }
            for (int i = 0; i < 32; i++) {
                GreedyParity.assertSameUpToTie(reference, prompts.get(i), reference.greedy(prompts.get(i), 12, false),
                        drain(requests.get(i)), "request " + i);
            }
            awaitIdle(service);
            assertEquals(0, service.metrics().kvBlocksUsed());
        }
    }

    @Test
    void aSharedThreeHundredTokenPrefixIsComputedOnce() throws Exception {
        Random random = new Random(2);
        int[] prefix = randomPrompt(random, 300);
        try (EngineService service = start(bytesFor(4096), 0, SchedulerConfig.defaults(2048))) {
            int[] first = concat(prefix, randomPrompt(random, 7));
            assertArrayEquals(reference.greedy(first, 6, false), drain(service.submit(greedy("p0", first, 6))));
            long hitsBefore = service.metrics().prefixCacheHitTokens();
            List<Request> later = new ArrayList<>();
            List<int[]> prompts = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                int[] p = concat(prefix, randomPrompt(random, 5 + i));
                prompts.add(p);
                later.add(service.submit(greedy("p" + i, p, 6)));
            }
            for (int i = 0; i < 3; i++) {
                GreedyParity.assertSameUpToTie(reference, prompts.get(i), reference.greedy(prompts.get(i), 6, false),
                        drain(later.get(i)), "request " + i);
            }
            awaitIdle(service);
            long reusedPerRequest = (300 / BLOCK) * BLOCK; // 288 tokens in 18 full blocks
            assertTrue(service.metrics().prefixCacheHitTokens() - hitsBefore >= 3 * reusedPerRequest,
                    "each later request reused the prefix: " + (service.metrics().prefixCacheHitTokens() - hitsBefore));
        }
    }

    @Test
    void aTinyPoolForcesPreemptionAndEveryRequestStillCompletesTheSame() throws Exception {
        for (long swap : new long[] {0, bytesFor(1024)}) {
            Random random = new Random(3);
            // Room for ~160 tokens: eight requests of up to 60 tokens each cannot all fit at once.
            try (EngineService service = start(bytesFor(160), swap, SchedulerConfig.defaults(2048))) {
                List<Request> requests = new ArrayList<>();
                List<int[]> prompts = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    int[] prompt = randomPrompt(random, 10 + random.nextInt(20));
                    prompts.add(prompt);
                    requests.add(service.submit(greedy("t" + i, prompt, 30)));
                }
                for (int i = 0; i < 8; i++) {
                    GreedyParity.assertSameUpToTie(reference, prompts.get(i), reference.greedy(prompts.get(i), 30, false),
                            drain(requests.get(i)), "request " + i + (swap > 0 ? " (swap)" : " (recompute)"));
                }
                awaitIdle(service);
                assertTrue(service.metrics().preemptions() > 0, "the pool was too small: preemption happened");
                assertEquals(0, service.metrics().kvBlocksUsed());
            }
        }
    }

    @Test
    void kvWasteAtPeakIsTheEmptyTailOfThePartialLastBlock() throws Exception {
        try (EngineService service = start(bytesFor(1024), 0, SchedulerConfig.defaults(2048))) {
            int[] prompt = randomPrompt(new Random(4), 20);
            drain(service.submit(greedy("w", prompt, 5)));
            awaitIdle(service);
            // 20 prompt tokens, then 4 more written while decoding: 2 blocks of 16 hold 20 to 24
            // tokens at every step, so 8 to 12 of the 32 slots are empty at the peak.
            assertEquals(2, service.metrics().kvBlocksPeak());
            double waste = service.metrics().kvWasteAtPeak();
            assertTrue(waste >= 8.0 / 32 && waste <= 12.0 / 32, "waste at peak " + waste);
            assertEquals(0, service.metrics().kvSlotsUnfilled(), "nothing runs, nothing is allocated");
        }
    }

    private static void awaitIdle(EngineService service) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while ((service.metrics().requestsRunning() > 0 || service.metrics().kvBlocksUsed() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
