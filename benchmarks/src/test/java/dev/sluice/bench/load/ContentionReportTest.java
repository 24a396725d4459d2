package dev.sluice.bench.load;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContentionReportTest {

    private static ContentionPhase.Server server(String name, double... e2eMs) {
        return new ContentionPhase.Server(name, e2eMs, e2eMs, 0, null, 10.0 * e2eMs.length, 2.0 * e2eMs.length);
    }

    private static ContentionPhase phase(String load, ContentionPhase.Server... servers) {
        return new ContentionPhase(load, "what ran", "2026-01-01T00:00:00Z", 12, "CPUs 3% busy", List.of(servers));
    }

    @Test
    void latencyIsTheMedianAndP90OfTheSamples() {
        ContentionReport.Latency l = ContentionReport.Latency.of(new double[] {50, 10, 40, 20, 30});
        assertEquals(5, l.count());
        assertEquals(30, l.medianMs(), 1e-12);
        assertEquals(46, l.p90Ms(), 1e-12); // rank 3.6: 40 + 0.6 * (50 - 40)
        assertEquals(0, ContentionReport.Latency.of(new double[0]).count());
        assertTrue(Double.isNaN(ContentionReport.Latency.of(new double[0]).medianMs()));
    }

    @Test
    void ratiosDivideByTheSameServersBaselineAndPairsDivideServers() {
        List<ContentionPhase> phases = List.of(
                phase("idle", server("a", 80, 90, 100), server("b", 50, 60, 70)),
                phase("loop2", server("a", 100, 110, 120), server("b", 6000, 6000, 6000)),
                phase("compile", server("a", 150)));
        List<ContentionReport.Row> rows = ContentionReport.rows(phases, List.of("a", "b"), "idle",
                List.of(new ContentionCommand.Pair("a", "b")));
        assertEquals(1.0, rows.get(0).toBaseline().get(0), 1e-12);
        assertEquals(110.0 / 90, rows.get(1).toBaseline().get(0), 1e-12);
        assertEquals(100.0, rows.get(1).toBaseline().get(1), 1e-12);
        assertEquals(90.0 / 60, rows.get(0).pairRatios().get(0), 1e-12);
        assertEquals(110.0 / 6000, rows.get(1).pairRatios().get(0), 1e-12);
        assertTrue(Double.isNaN(rows.get(2).toBaseline().get(1)), "b was not measured under compile");
        assertTrue(Double.isNaN(rows.get(2).pairRatios().get(0)));
        assertTrue(Double.isNaN(ContentionReport.ratio(1, 0)));
    }

    @Test
    void markdownHasTheCommandTheTableAndThePerRequestCosts() {
        ContentionCommand.Report report = new ContentionCommand.Report(Path.of("raw"), List.of("idle", "loop2"),
                List.of("a", "b"), "idle", List.of(new ContentionCommand.Pair("a", "b")), null,
                "bin/contention --requests 3", "Busy host", Path.of("out.md"));
        String md = ContentionReport.markdown(report, List.of(
                phase("idle", server("a", 80, 90, 100), server("b", 50, 60, 70)),
                phase("loop2", server("a", 100, 110, 120), server("b", 6000, 6000, 6000))), "## Setup\n\nhost");
        assertTrue(md.startsWith("# Busy host\n"), md);
        assertTrue(md.contains("bin/contention --requests 3"), md);
        assertTrue(md.contains("## Setup"), md);
        assertTrue(md.contains("| load | a median | p90 | × idle | b median | p90 | × idle | a / b |"), md);
        assertTrue(md.contains("| loop2 | 0.110 | 0.118 | 1.22× | 6.000 | 6.000 | 100× | 0.02× |"), md);
        assertTrue(md.contains("| loop2 | b | 3 | 0 | 10.0 | 2.0 |"), md);
        assertTrue(md.contains("- `loop2`: what ran"), md);
    }

    @Test
    void phasesSurviveAJsonRoundTrip(@TempDir Path dir) throws Exception {
        ContentionPhase p = phase("idle", server("a", 1.5, 2.5));
        Path file = dir.resolve("idle.json");
        p.write(file);
        ContentionPhase back = ContentionPhase.read(file);
        assertEquals("idle", back.load());
        assertEquals(2, back.server("a").requests());
        assertEquals(2.5, back.server("a").e2eMs()[1]);
        assertTrue(Files.readString(file).contains("runQueueWaitMs"));
    }

    @Test
    void failedRequestsAreCountedApartFromTheLatencies() {
        RequestSample ok = new RequestSample(0, 0, true, 200, null, 10, 8, true, 8, 20, 5, 55, new double[0]);
        RequestSample bad = new RequestSample(1, 0, false, 500, "HTTP 500", 10, 0, false, 0, 0, 0, 3, new double[0]);
        ContentionPhase.Server s = ContentionProbe.server("a", List.of(ok, bad, ok), new SchedStat(4_000_000, 1_000_000, 9));
        assertEquals(2, s.requests());
        assertEquals(1, s.errors());
        assertEquals("HTTP 500", s.firstError());
        assertEquals(4.0, s.cpuMs(), 1e-12);
        assertEquals(1.0, s.runQueueWaitMs(), 1e-12);
    }
}
