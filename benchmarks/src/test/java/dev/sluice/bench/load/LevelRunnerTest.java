package dev.sluice.bench.load;

import dev.sluice.bench.load.FakeOpenAiServer.Behavior;
import dev.sluice.bench.load.FakeOpenAiServer.Failure;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LevelRunnerTest {

    /** Short requests: 32–64 tokens in, 1–4 out, so tests spend their time in the server's delays. */
    private static final Workload TINY = new Workload() {
        @Override
        public String name() {
            return "tiny";
        }

        @Override
        public String description() {
            return "for tests";
        }

        @Override
        public RequestShape next(java.util.random.RandomGenerator random) {
            return new RequestShape(PromptSegment.NONE, new PromptSegment(random.nextLong(), Workload.between(random, 32, 64)),
                    Workload.between(random, 1, 4));
        }
    };

    private static LevelRunner runner(FakeOpenAiServer server, long seed) {
        OpenAiClient client = new OpenAiClient(server.baseUrl(), null, Duration.ofSeconds(10));
        return new LevelRunner(client, new Generation(Endpoint.COMPLETIONS, FakeOpenAiServer.MODEL, 0), TINY,
                new PromptRenderer(PromptFormat.IDS, 1000, 20000), seed);
    }

    @Test
    void closedLoopKeepsExactlyNRequestsInFlight() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.timed(40, 10, 1))) {
            LevelRun run = runner(server, 1).run(new LoadPattern.ClosedLoop(4), StopCondition.requests(24), new LevelCounters());

            assertEquals(24, run.samples().size());
            assertTrue(run.samples().stream().allMatch(RequestSample::success));
            assertEquals(IntStream.range(0, 24).boxed().toList(), run.samples().stream().map(RequestSample::index).toList());
            assertEquals(4, server.maxConcurrent(), "the server never saw more than 4, and did see 4");
            assertEquals(4, run.peakConcurrency());
        }
    }

    @Test
    void openLoopArrivalsFollowThePoissonRate() throws Exception {
        double rate = 100;
        int count = 150;
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.fast())) {
            LevelRun run = runner(server, 42).run(new LoadPattern.OpenLoop(rate, 0), StopCondition.requests(count),
                    new LevelCounters());

            assertEquals(count, run.samples().size());
            List<Long> arrivals = server.arrivalNanos.stream().sorted().toList();
            double meanGapS = (arrivals.getLast() - arrivals.getFirst()) / 1e9 / (count - 1);
            assertTrue(Math.abs(meanGapS * rate - 1) < 0.3, "mean inter-arrival " + meanGapS + " s at " + rate + "/s");
            long distinctGaps = IntStream.range(1, count)
                    .mapToObj(i -> (arrivals.get(i) - arrivals.get(i - 1)) / 2_000_000).distinct().count();
            assertTrue(distinctGaps > 10, "arrivals are spread out, not evenly spaced");
        }
    }

    @Test
    void openLoopRespectsMaxConcurrency() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.timed(30, 0, 1))) {
            LevelRun run = runner(server, 3).run(new LoadPattern.OpenLoop(Double.POSITIVE_INFINITY, 3),
                    StopCondition.requests(15), new LevelCounters());

            assertEquals(15, run.samples().size());
            assertEquals(3, server.maxConcurrent());
            assertEquals(3, run.peakConcurrency());
        }
    }

    @Test
    void errorsAreCountedAndReportedNotThrown() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(
                n -> n % 3 == 0 ? Behavior.fast().failing(Failure.SERVER_ERROR) : Behavior.fast())) {
            LevelCounters counters = new LevelCounters();
            LoadPattern load = new LoadPattern.ClosedLoop(2);
            LevelRun run = runner(server, 5).run(load, StopCondition.requests(30), counters);
            LevelSummary summary = LevelSummary.of(load, run, new Slo(1000, 100));

            assertEquals(20, summary.succeeded());
            assertEquals(10, summary.failed());
            assertEquals(10, counters.failed());
            assertEquals(java.util.Map.of("HTTP 500: engine crashed", 10), summary.errors());
        }
    }

    @Test
    void aDurationStopsSendingAndLetsRequestsInFlightFinish() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.timed(50, 0, 1))) {
            LevelRun run = runner(server, 9).run(new LoadPattern.ClosedLoop(2),
                    new StopCondition(Integer.MAX_VALUE, Duration.ofMillis(400)), new LevelCounters());

            assertTrue(run.samples().size() >= 2 && run.samples().size() <= 20, run.samples().size() + " requests");
            assertTrue(run.samples().stream().allMatch(RequestSample::success));
            assertTrue(run.durationS() >= 0.4 && run.durationS() < 5, run.durationS() + " s");
        }
    }

    @Test
    void everyLevelSendsTheSameRequestsForASeed() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.fast())) {
            runner(server, 11).run(new LoadPattern.ClosedLoop(1), StopCondition.requests(5), new LevelCounters());
            runner(server, 11).run(new LoadPattern.ClosedLoop(3), StopCondition.requests(5), new LevelCounters());
            runner(server, 12).run(new LoadPattern.ClosedLoop(1), StopCondition.requests(5), new LevelCounters());

            List<String> first = prompts(server, 0);
            assertEquals(first, prompts(server, 5), "same seed, other concurrency");
            assertTrue(!first.equals(prompts(server, 10)), "another seed, other prompts");
        }
    }

    /** The sorted prompts of five consecutive requests the server received (concurrent ones arrive in any order). */
    private static List<String> prompts(FakeOpenAiServer server, int from) {
        return server.bodies.subList(from, from + 5).stream().map(b -> b.path("prompt").toString()).sorted().toList();
    }
}
