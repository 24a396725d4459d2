package dev.sluice.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.bench.load.FakeOpenAiServer.Behavior;
import dev.sluice.bench.load.FakeOpenAiServer.Failure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole tool against the fake server: outputs written, well-formed, and consistent with each other. */
class LoadGeneratorTest {

    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    private int run(String... args) throws InterruptedException {
        LoadGenerator generator = new LoadGenerator(new PrintStream(stdout, true, StandardCharsets.UTF_8),
                new PrintStream(stderr, true, StandardCharsets.UTF_8), false);
        return generator.run(args);
    }

    @Test
    void writesJsonMarkdownAndChartForEveryLevel(@TempDir Path dir) throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(
                n -> n == 5 ? Behavior.timed(5, 1, 2).failing(Failure.RATE_LIMITED) : Behavior.timed(5, 1, 2))) {
            Path json = dir.resolve("out/results.json");
            Path markdown = dir.resolve("results.md");
            Path chart = dir.resolve("chart.png");
            int status = run("--base-url", server.baseUrl() + "/v1/", "--workload", "shared-prefix", "--concurrency", "1,4",
                    "--num-requests", "12", "--warmup-requests", "2", "--seed", "3", "--label", "fake",
                    "--out", json.toString(), "--markdown", markdown.toString(), "--chart", chart.toString());
            assertEquals(0, status, stderr.toString(StandardCharsets.UTF_8));
            assertEquals(26, server.bodies.size(), "2 warmup + 2 levels of 12");

            JsonNode root = new ObjectMapper().readTree(json.toFile());
            JsonNode config = root.path("config");
            JsonNode levels = root.path("levels");
            assertAll(
                    () -> assertEquals("fake", config.path("label").asText()),
                    () -> assertEquals(FakeOpenAiServer.MODEL, config.path("model").asText(), "the first model listed"),
                    () -> assertEquals("shared-prefix", config.path("workload").asText()),
                    () -> assertEquals(3, config.path("seed").asLong()),
                    () -> assertFalse(config.has("apiKey")),
                    () -> assertEquals(2, levels.size()),
                    () -> assertEquals("closed", levels.path(0).path("summary").path("load").path("mode").asText()),
                    () -> assertEquals(4, levels.path(1).path("summary").path("load").path("concurrency").asInt()),
                    () -> assertEquals(12, levels.path(0).path("samples").size()),
                    () -> assertEquals(11, levels.path(0).path("summary").path("succeeded").asInt(), "request 5 got a 429"),
                    () -> assertEquals(1, levels.path(0).path("summary").path("errors").path("HTTP 429: too many requests").asInt()),
                    () -> assertEquals(12, levels.path(1).path("summary").path("succeeded").asInt()),
                    () -> assertTrue(levels.path(1).path("samples").path(0).path("itlMs").isArray()),
                    () -> assertTrue(levels.path(0).path("summary").path("ttftMs").path("p99").asDouble() > 0));

            RunResult read = ResultsFile.read(json);
            assertEquals(2, read.levels().size());
            assertEquals(new LoadPattern.ClosedLoop(4), read.summaries().get(1).load());

            String md = Files.readString(markdown);
            assertTrue(md.startsWith("# Serving benchmark: fake\n"), md);
            assertTrue(md.contains("| load | ok | failed | duration (s) | req/s | output tok/s | total tok/s | goodput (req/s) | peak concurrency |"), md);
            assertTrue(md.contains("| concurrency 1 | 11 | 1 |"), md);
            assertTrue(md.contains("| concurrency 4 | 12 | 0 |"), md);
            assertTrue(md.contains("| concurrency 4 | TTFT |"), md);
            assertTrue(md.contains("| concurrency 1 | HTTP 429: too many requests | 1 |"), md);
            assertWellFormedTables(md);

            BufferedImage image = ImageIO.read(chart.toFile());
            assertEquals(ThroughputChart.WIDTH, image.getWidth());
            assertEquals(ThroughputChart.HEIGHT, image.getHeight());

            String out = stdout.toString(StandardCharsets.UTF_8);
            assertTrue(out.contains("warmup: 2 request(s), 0 failed"), out);
            assertTrue(out.contains("==== concurrency 4 ===="), out);
        }
    }

    @Test
    void singleWorkloadRunsOneRequestAtATime() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.fast())) {
            int status = run("--base-url", server.baseUrl().toString(), "--workload", "single", "--concurrency", "4,8",
                    "--num-requests", "3", "--no-progress");
            assertEquals(0, status, stderr.toString(StandardCharsets.UTF_8));
            assertEquals(1, server.maxConcurrent());
            assertEquals(3, server.bodies.size(), "one level");
            assertTrue(server.bodies.stream().allMatch(b -> b.path("prompt").size() == 128 && b.path("max_tokens").asInt() == 128));
        }
    }

    @Test
    void failsWhenNoRequestSucceedsAndWhenTheServerIsMissing() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer(Behavior.fast().failing(Failure.SERVER_ERROR))) {
            assertEquals(1, run("--base-url", server.baseUrl().toString(), "--num-requests", "2", "--no-progress"));
            assertTrue(stderr.toString(StandardCharsets.UTF_8).contains("no request succeeded"));
        }
        assertEquals(1, run("--base-url", "http://127.0.0.1:1", "--no-progress"));
        assertTrue(stderr.toString(StandardCharsets.UTF_8).contains("pass --model"), stderr.toString(StandardCharsets.UTF_8));
    }

    @Test
    void comparesTwoResultsFilesFigureByFigure(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        ResultsFile.write(result("x", summary(new LoadPattern.ClosedLoop(8), 200, 100), summary(new LoadPattern.ClosedLoop(1), 50, 20)), a);
        ResultsFile.write(result("y", summary(new LoadPattern.ClosedLoop(8), 100, 400), summary(new LoadPattern.ClosedLoop(64), 1, 1)), b);
        Path cmp = dir.resolve("cmp.md");

        assertEquals(0, run("--compare", a.toString(), b.toString(), "--labels", "sluice,llama-server", "--markdown", cmp.toString()));

        Comparison comparison = Comparison.of("sluice", ResultsFile.read(a), "llama-server", ResultsFile.read(b));
        assertEquals(1, comparison.levels().size());
        Comparison.Level level = comparison.levels().getFirst();
        assertEquals("concurrency 8", level.load());
        assertEquals(Figure.ALL.size(), level.rows().size());
        assertEquals(2.0, row(level, "output tokens/s").ratio(), 1e-12);
        assertEquals(0.25, row(level, "TTFT p50 (ms)").ratio(), 1e-12);
        assertEquals(200, row(level, "output tokens/s").a());
        assertEquals(100, row(level, "output tokens/s").b());
        assertTrue(Double.isNaN(row(level, "failed requests").ratio()), "0/0 has no ratio");
        assertEquals(List.of("concurrency 1 (only in sluice)", "concurrency 64 (only in llama-server)"), comparison.unmatched());
        assertEquals(List.of(), comparison.differences(), "labels differ, settings do not");

        String md = Files.readString(cmp);
        assertTrue(md.contains("| figure | sluice | llama-server | sluice / llama-server |"), md);
        assertTrue(md.contains("| output tokens/s | 200.0 | 100.0 | 2.00 |"), md);
        assertTrue(md.contains("| TTFT p50 (ms) | 100.0 | 400.0 | 0.25 |"), md);
        assertTrue(md.contains("| failed requests | 0 | 0 | – |"), md);
        assertTrue(md.contains("Not compared: concurrency 1 (only in sluice), concurrency 64 (only in llama-server)."), md);
        assertEquals(md, stdout.toString(StandardCharsets.UTF_8).replace("wrote " + cmp + "\n", ""));
        assertFalse(md.contains("not made alike"), md);
    }

    @Test
    void comparisonsSayWhenTheRunsWereMadeDifferently() {
        RunResult a = result("x", summary(new LoadPattern.ClosedLoop(8), 1, 1));
        RunConfig c = a.config();
        RunConfig other = new RunConfig("y", "http://other", c.endpoint(), "other-model", "mixed", c.promptFormat(),
                c.vocabMin(), c.vocabMax(), 7, c.numRequests(), c.durationS(), c.warmupRequests(), c.temperature(),
                c.sloTtftMs(), c.sloTpotMs(), c.startedAt());
        Comparison comparison = Comparison.of("x", a, "y", new RunResult(other, a.levels()));
        assertEquals(List.of("workload chat-like vs mixed", "seed 0 vs 7"), comparison.differences());
        assertTrue(comparison.markdown().contains("**The runs were not made alike:** workload chat-like vs mixed; seed 0 vs 7."));
    }

    /** Every table line ends with a pipe, and every row of a table has as many cells as its header. */
    private static void assertWellFormedTables(String markdown) {
        int cells = -1;
        int tables = 0;
        for (String line : markdown.lines().toList()) {
            if (!line.startsWith("|")) {
                cells = -1;
                continue;
            }
            assertTrue(line.endsWith("|"), line);
            int count = line.replace("\\|", "").split("\\|", -1).length - 2;
            if (cells < 0) {
                cells = count;
                tables++;
            }
            assertEquals(cells, count, line);
        }
        assertEquals(3, tables, "throughput, latency and errors");
    }

    private static Comparison.Row row(Comparison.Level level, String figure) {
        return level.rows().stream().filter(r -> r.figure().name().equals(figure)).findFirst().orElseThrow();
    }

    private static LevelSummary summary(LoadPattern load, double outputTokensPerS, double ttftP50) {
        Distribution ttft = new Distribution(10, ttftP50, ttftP50, ttftP50 * 2, ttftP50 * 3);
        Distribution other = new Distribution(10, 10, 10, 20, 30);
        return new LevelSummary(load, 10, 0, 5, 1000, 500, 2, outputTokensPerS, outputTokensPerS * 3, 2, 8,
                ttft, other, other, other, java.util.Map.of());
    }

    private static RunResult result(String label, LevelSummary... summaries) {
        RunConfig config = new RunConfig(label, "http://h", "/v1/completions", "m", "chat-like", "ids", 1000, 20000, 0,
                10, 0, 0, 0, 1000, 100, "2025-01-01T00:00:00Z");
        return new RunResult(config, java.util.Arrays.stream(summaries).map(s -> new LevelResult(s, List.of())).toList());
    }
}
