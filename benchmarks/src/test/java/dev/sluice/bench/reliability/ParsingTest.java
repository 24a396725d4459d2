package dev.sluice.bench.reliability;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Metrics text, /proc status and RSS quarters. */
class ParsingTest {

    private static final String METRICS = """
            # HELP sluice:kv_cache_blocks_used KV blocks in use
            # TYPE sluice:kv_cache_blocks_used gauge
            sluice:kv_cache_blocks_used{model_name="m"} 7
            sluice:num_preemptions_total{model_name="m"} 12
            sluice:request_success_total{model_name="m",finished_reason="stop"} 3
            sluice:request_success_total{model_name="m",finished_reason="length"} 4.5
            sluice:time_to_first_token_seconds_bucket{model_name="m",le="+Inf"} 9
            sluice:odd{label="a b}c"} 2
            plain_metric 1e3 1700000000
            sluice:inf{model_name="m"} +Inf
            broken_line_without_value
            """;

    @Test
    void readsPrometheusSamplesSummedOverLabels() {
        PromText m = PromText.parse(METRICS);
        assertEquals(7, m.value("sluice:kv_cache_blocks_used").orElseThrow());
        assertEquals(12, m.value("sluice:num_preemptions_total").orElseThrow());
        assertEquals(7.5, m.value("sluice:request_success_total").orElseThrow());
        assertEquals(1000, m.value("plain_metric").orElseThrow());
        assertEquals(2, m.value("sluice:odd").orElseThrow());
        assertEquals(Double.POSITIVE_INFINITY, m.value("sluice:inf").orElseThrow());
        assertFalse(m.value("sluice:missing").isPresent());
        assertFalse(m.has("broken_line_without_value"));
        assertFalse(PromText.parse("").has("x"));
    }

    @Test
    void readsVmRssFromProcStatus() {
        String status = "Name:\tjava\nVmPeak:\t 9999 kB\nVmRSS:\t  305492 kB\nThreads:\t40\n";
        assertEquals(OptionalLong.of(305492L * 1024), ProcStatus.rssBytes(status));
        assertEquals(OptionalLong.empty(), ProcStatus.rssBytes("Name:\tjava\n"));
        assertEquals(OptionalLong.empty(), ProcStatus.rssBytes("VmRSS:\tlots kB\n"));
    }

    @Test
    void readsThisProcessesRssOnLinux() {
        if (System.getProperty("os.name").toLowerCase().contains("linux")) {
            assertTrue(ProcStatus.rssBytes(ProcessHandle.current().pid()).orElse(0) > 0);
        }
        assertFalse(ProcStatus.rssBytes(-42).isPresent());
    }

    @Test
    void averagesTheFirstAndLastQuarterOfTheRequests() {
        List<RssSampler.Sample> samples = List.of(
                new RssSampler.Sample(0, 100), new RssSampler.Sample(10, 300), // first quarter of 100: below 25
                new RssSampler.Sample(40, 999), new RssSampler.Sample(74, 999), // the middle: ignored
                new RssSampler.Sample(75, 210), new RssSampler.Sample(99, 210), // last quarter
                new RssSampler.Sample(100, 5000)); // after the last request: ignored
        RssSampler.Quarters q = RssSampler.quarters(samples, 100);
        assertEquals(200, q.firstBytes());
        assertEquals(210, q.lastBytes());
        assertEquals(2, q.firstSamples());
        assertEquals(2, q.lastSamples());
        assertEquals(5.0, q.growthPercent(), 1e-9);
        assertTrue(Double.isNaN(RssSampler.quarters(List.of(), 100).growthPercent()));
    }

    @Test
    void averagesEachTenthOfTheRequests() {
        List<RssSampler.Sample> samples = List.of(new RssSampler.Sample(0, 10), new RssSampler.Sample(9, 30),
                new RssSampler.Sample(95, 100), new RssSampler.Sample(100, 999));
        double[] tenths = RssSampler.tenths(samples, 100);
        assertEquals(10, tenths.length);
        assertEquals(20, tenths[0]);
        assertTrue(Double.isNaN(tenths[5]));
        assertEquals(100, tenths[9]);
    }

    @Test
    void percentilesAndMeans() {
        List<Double> values = List.of(5.0, 1.0, 3.0, 2.0, 4.0);
        assertEquals(3.0, Stats.mean(values));
        assertEquals(3.0, Stats.percentile(values, 50));
        assertEquals(5.0, Stats.percentile(values, 90));
        assertEquals(1.0, Stats.percentile(values, 0));
        assertTrue(Double.isNaN(Stats.percentile(List.of(), 50)));
    }
}
