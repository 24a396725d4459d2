package dev.sluice.bench.load;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rounds of one server pooled into one result: what bin/head-to-head compares after alternating servers. */
class RunMergeTest {

    private static RequestSample ok(int index, int output, double ttft, double e2e) {
        return new RequestSample(index, 0, true, 200, null, 100, output, true, output, ttft,
                (e2e - ttft) / (output - 1), e2e, new double[] {(e2e - ttft) / (output - 1)});
    }

    private static RunResult run(String label, long seed, String workload, double... levelSeconds) {
        RunConfig config = new RunConfig(label, "http://h", "/v1/completions", "m", workload, "ids", 1000, 20000, seed,
                4, 0, 2, 1, 1000, 100, "2026-11-30T00:00:0" + seed + "Z");
        Slo slo = new Slo(1000, 100);
        List<LevelResult> levels = new java.util.ArrayList<>();
        for (int i = 0; i < levelSeconds.length; i++) {
            int concurrency = 1 << (2 * i);
            // Each level of a run: two requests whose latencies scale with the seed, so the pooled
            // percentiles must come from both runs' samples.
            List<RequestSample> samples = List.of(ok(0, 11, 100 * seed, 100 * seed + 500), ok(1, 21, 200 * seed, 200 * seed + 2000));
            LoadPattern load = new LoadPattern.ClosedLoop(concurrency);
            levels.add(new LevelResult(LevelSummary.of(load, new LevelRun(samples, levelSeconds[i], concurrency), slo), samples));
        }
        return new RunResult(config, levels);
    }

    @Test
    void poolsEveryRequestOverTheSumOfTheRoundsWallTimes() {
        RunResult pooled = RunMerge.of(List.of(run("s", 1, "chat-like", 2.0, 1.0), run("s", 2, "chat-like", 3.0, 1.5)));

        assertEquals(2, pooled.levels().size());
        LevelSummary first = pooled.levels().getFirst().summary();
        assertEquals("concurrency 1", first.load().label());
        assertEquals(4, first.succeeded());
        assertEquals(5.0, first.durationS(), 1e-12);
        assertEquals(2 * (11 + 21), first.outputTokens());
        assertEquals(64 / 5.0, first.outputTokensPerS(), 1e-12, "tokens of both rounds over both wall times");
        assertEquals((100 + 200 + 200 + 400) / 4.0, first.ttftMs().mean(), 1e-12);
        assertEquals(Distribution.percentile(new double[] {100, 200, 200, 400}, 99), first.ttftMs().p99(), 1e-12);
        assertTrue(first.ttftMs().p99() > 390, "the second round's slowest request is in the tail");
        assertEquals(4, pooled.levels().getFirst().samples().size());
        assertEquals(2.5, pooled.levels().get(1).summary().durationS(), 1e-12);
        assertEquals(4, pooled.levels().get(1).summary().peakConcurrency());
        assertEquals(8, pooled.config().numRequests(), "the rounds' requests added up");
        assertEquals(1, pooled.config().seed(), "the first round's configuration");
    }

    @Test
    void refusesRunsOfDifferentLoadsOrLevels() {
        IllegalArgumentException workload = assertThrows(IllegalArgumentException.class,
                () -> RunMerge.of(List.of(run("s", 1, "chat-like", 1.0), run("s", 2, "mixed", 1.0))));
        assertTrue(workload.getMessage().contains("workload chat-like vs mixed"), workload.getMessage());
        IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
                () -> RunMerge.of(List.of(run("sluice", 1, "chat-like", 1.0), run("llama-server", 2, "chat-like", 1.0))));
        assertTrue(label.getMessage().contains("label sluice vs llama-server"), label.getMessage());
        IllegalArgumentException level = assertThrows(IllegalArgumentException.class,
                () -> RunMerge.of(List.of(run("s", 1, "chat-like", 1.0, 1.0), run("s", 2, "chat-like", 1.0))));
        assertTrue(level.getMessage().contains("has no level concurrency 4"), level.getMessage());
    }

    @Test
    void theCommandLineWritesThePooledFileThatComparesLikeAnyOther(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("r1.json");
        Path b = dir.resolve("r2.json");
        ResultsFile.write(run("s", 1, "chat-like", 2.0), a);
        ResultsFile.write(run("s", 2, "chat-like", 3.0), b);
        Path pooled = dir.resolve("pooled.json");
        Path markdown = dir.resolve("pooled.md");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        LoadGenerator generator = new LoadGenerator(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);

        assertEquals(0, generator.run(new String[] {"--merge", a + "," + b, "--out", pooled.toString(), "--markdown", markdown.toString()}),
                err.toString(StandardCharsets.UTF_8));
        RunResult read = ResultsFile.read(pooled);
        assertEquals(4, read.levels().getFirst().samples().size());
        assertEquals(5.0, read.levels().getFirst().summary().durationS(), 1e-12);
        assertTrue(Files.readString(markdown).contains("concurrency 1"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("2 runs pooled"));

        assertEquals(2, generator.run(new String[] {"--merge", a + "," + b}), "--out is needed");
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--merge needs --out"), err.toString(StandardCharsets.UTF_8));
        assertEquals(2, generator.run(new String[] {"--merge", a.toString(), "--out", pooled.toString(), "--labels", "x,y"}));
        ResultsFile.write(run("s", 2, "mixed", 3.0), b);
        assertEquals(2, generator.run(new String[] {"--merge", a + "," + b, "--out", pooled.toString()}));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("cannot be pooled"), err.toString(StandardCharsets.UTF_8));
    }
}
