package dev.sluice.bench.load;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressAndChartTest {

    @Test
    void progressLineShowsDoneErrorsTokensAndTime() throws Exception {
        LevelCounters counters = new LevelCounters();
        counters.started();
        counters.started();
        counters.finished(false);
        counters.outputTokens.add(500);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        ProgressLine counted = new ProgressLine("concurrency 8", StopCondition.requests(20), counters, out, true);
        assertEquals("concurrency 8 | 1/20 done | 1 failed | 1 in flight | 1234 tok/s | 3 s", counted.line(1234.4, 3.2));
        counted.stop();
        String terminal = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(terminal.startsWith("\rconcurrency 8 | 1/20 done") && terminal.endsWith("\u001b[K\n"), terminal);

        ProgressLine timed = new ProgressLine("rate 4/s", new StopCondition(Integer.MAX_VALUE, Duration.ofSeconds(60)),
                counters, out, false);
        assertEquals("rate 4/s | 1 done | 1 failed | 1 in flight | 0 tok/s | 12/60 s", timed.line(0, 12));
        bytes.reset();
        timed.stop();
        assertEquals("", bytes.toString(StandardCharsets.UTF_8), "no final line off a terminal: the summary follows");
    }

    @Test
    void axisCeilingsAreRoundNumbers() {
        assertEquals(1, ThroughputChart.niceCeiling(0));
        assertEquals(1, ThroughputChart.niceCeiling(1));
        assertEquals(2, ThroughputChart.niceCeiling(1.01));
        assertEquals(250, ThroughputChart.niceCeiling(201));
        assertEquals(5000, ThroughputChart.niceCeiling(2600));
        assertEquals(10000, ThroughputChart.niceCeiling(5001));
        assertEquals(0.05, ThroughputChart.niceCeiling(0.042), 1e-12);
    }

    @Test
    void chartDrawsTheSeriesInTheirColours(@TempDir Path dir) throws Exception {
        List<LevelSummary> levels = List.of(level(1, 100, 50, 80), level(8, 700, 90, 200), level(32, 1500, 400, 900));
        Path png = dir.resolve("chart.png");
        ThroughputChart.write("test", levels, png);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(ThroughputChart.WIDTH, image.getWidth());
        assertEquals(ThroughputChart.HEIGHT, image.getHeight());
        assertTrue(count(image, 0x1f77b4) > 200, "the throughput line is drawn");
        assertTrue(count(image, 0xd62728) > 100, "the TTFT p99 line is drawn");
        assertNotEquals(0xffffff, image.getRGB(ThroughputChart.WIDTH / 2, ThroughputChart.HEIGHT - 80) & 0xffffff,
                "the x axis is drawn");
        assertTrue(count(image.getSubimage(0, 0, ThroughputChart.WIDTH, 50), 0x404040) > 20, "the title is drawn");
    }

    @Test
    void comparisonChartDrawsBothRuns(@TempDir Path dir) throws Exception {
        List<LevelSummary> a = List.of(level(1, 100, 50, 80), level(8, 700, 90, 200));
        List<LevelSummary> b = List.of(level(1, 90, 60, 95), level(8, 400, 150, 600));
        Path png = dir.resolve("compare.png");
        ThroughputChart.writeComparison("chat-like: sluice vs llama-server", "sluice", a, "llama-server", b, png);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(ThroughputChart.WIDTH, image.getWidth());
        assertTrue(count(image, 0x1f77b4) > 200, "the first run's lines are drawn");
        assertTrue(count(image, 0xff7f0e) > 200, "the second run's lines are drawn");
        assertThrows(IllegalArgumentException.class,
                () -> ThroughputChart.writeComparison("x", "a", a, "b", b.subList(0, 1), dir.resolve("bad.png")));
    }

    private static int count(BufferedImage image, int rgb) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xffffff) == rgb) {
                    n++;
                }
            }
        }
        return n;
    }

    private static LevelSummary level(int concurrency, double tokensPerS, double ttftP50, double ttftP99) {
        Distribution ttft = new Distribution(10, ttftP50, ttftP50, ttftP99, ttftP99);
        return new LevelSummary(new LoadPattern.ClosedLoop(concurrency), 10, 0, 1, 100, 100, 10, tokensPerS, tokensPerS,
                10, concurrency, ttft, Distribution.EMPTY, Distribution.EMPTY, Distribution.EMPTY, Map.of());
    }
}
