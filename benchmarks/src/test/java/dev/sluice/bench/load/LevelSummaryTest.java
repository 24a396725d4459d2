package dev.sluice.bench.load;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LevelSummaryTest {

    @Test
    void percentilesInterpolateLinearlyBetweenRanksAsNumpyDoes() {
        double[] values = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5}; // unsorted on purpose
        Distribution d = Distribution.of(values);
        assertEquals(10, d.count());
        assertEquals(5.5, d.mean(), 1e-12);
        assertEquals(5.5, d.p50(), 1e-12);  // numpy.percentile(range(1, 11), 50)
        assertEquals(9.1, d.p90(), 1e-12);  // ... 90
        assertEquals(9.91, d.p99(), 1e-12); // ... 99
        assertEquals(10, values[0], "the input is not sorted in place");
    }

    @Test
    void percentilesOfOneValueAndOfNone() {
        Distribution one = Distribution.of(new double[] {42});
        assertEquals(new Distribution(1, 42, 42, 42, 42), one);
        assertSame(Distribution.EMPTY, Distribution.of(new double[0]));
        assertEquals(4, Distribution.percentile(new double[] {1, 4}, 100));
        assertEquals(1, Distribution.percentile(new double[] {1, 4}, 0));
        assertThrows(IllegalArgumentException.class, () -> Distribution.percentile(new double[] {1}, 101));
    }

    private static RequestSample ok(int index, int prompt, int output, double ttft, double e2e, double... itl) {
        double tpot = output > 1 ? (e2e - ttft) / (output - 1) : 0;
        return new RequestSample(index, 0, true, 200, null, prompt, output, true, itl.length + 1, ttft, tpot, e2e, itl);
    }

    private static RequestSample failed(int index, String error) {
        return new RequestSample(index, 0, false, 500, error, 10, 0, false, 0, 0, 0, 5, new double[0]);
    }

    @Test
    void summarizesThroughputLatenciesGoodputAndErrors() {
        List<RequestSample> samples = List.of(
                ok(0, 100, 11, 200, 1200, 100, 100),   // TPOT 100: meets the SLO exactly
                ok(1, 50, 5, 1500, 1900, 50),          // TTFT too high
                ok(2, 30, 1, 100, 100),                // one token: no TPOT, meets the SLO
                failed(3, "HTTP 500: boom"),
                failed(4, "timeout"),
                failed(5, "HTTP 500: boom"));
        LoadPattern load = new LoadPattern.ClosedLoop(4);
        LevelSummary s = LevelSummary.of(load, new LevelRun(samples, 2.0, 3), new Slo(1000, 100));

        assertEquals(load, s.load());
        assertEquals(3, s.succeeded());
        assertEquals(3, s.failed());
        assertEquals(180, s.promptTokens(), "failed requests do not count");
        assertEquals(17, s.outputTokens());
        assertEquals(1.5, s.requestThroughput(), 1e-12);
        assertEquals(8.5, s.outputTokensPerS(), 1e-12);
        assertEquals(98.5, s.totalTokensPerS(), 1e-12);
        assertEquals(1.0, s.goodput(), 1e-12);
        assertEquals(3, s.peakConcurrency());
        assertEquals(Distribution.of(new double[] {200, 1500, 100}), s.ttftMs());
        assertEquals(Distribution.of(new double[] {100, 100}), s.tpotMs(), "TPOT over requests with two tokens or more");
        assertEquals(Distribution.of(new double[] {100, 100, 50}), s.itlMs(), "every gap of every request");
        assertEquals(Distribution.of(new double[] {1200, 1900, 100}), s.e2eMs());
        assertEquals(List.of(Map.entry("HTTP 500: boom", 2), Map.entry("timeout", 1)), List.copyOf(s.errors().entrySet()),
                "errors counted, the most frequent first");
    }
}
