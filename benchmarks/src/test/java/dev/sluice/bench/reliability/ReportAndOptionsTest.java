package dev.sluice.bench.reliability;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportAndOptionsTest {

    @Test
    void rendersTheCommandASummaryTableAndEachPhase() {
        PhaseResult fuzz = new PhaseResult("fuzz", "Fuzz", "Server: `--model m`.", List.of(
                Criterion.check("0 5xx for malformed input", false, "2 of 1000"),
                Criterion.check("0 engine deaths", true, "0"),
                Criterion.info("largest | body", "29 MB")), "Some | details");
        PhaseResult contention = new PhaseResult("contention", "Contention", "", List.of(
                new Criterion("contention ratios", "not available", Verdict.NOT_RUN)), "");
        String md = ReportWriter.render(new ReportWriter.Header("2026-11-29", "bin/reliability --quick", List.of("Models: m.")),
                List.of(fuzz, contention));
        assertTrue(md.startsWith("# Reliability run, 2026-11-29\n"));
        assertTrue(md.contains("```\nbin/reliability --quick\n```"));
        assertTrue(md.contains("- Models: m."));
        assertTrue(md.contains("1 passed, 1 failed."));
        assertTrue(md.contains("| fuzz | 0 5xx for malformed input | 2 of 1000 | **FAIL** |"));
        assertTrue(md.contains("| fuzz | 0 engine deaths | 0 | PASS |"));
        assertTrue(md.contains("| fuzz | largest \\| body | 29 MB | info |"));
        assertTrue(md.contains("| contention | contention ratios | not available | not run |"));
        assertTrue(md.contains("## Fuzz\n\nServer: `--model m`.\n\nSome | details\n"));
        assertTrue(fuzz.failed());
    }

    @Test
    void codeSpansShowControlCharactersAndStayShort() {
        assertEquals("`a\\x0ab\\x00`", ReportWriter.code("a\nb\u0000", 50));
        assertEquals("`it's`", ReportWriter.code("it`s", 50));
        assertEquals("`abc...`", ReportWriter.code("abcdef", 3));
        assertEquals("a \\| b", ReportWriter.cell("a | b"));
    }

    @Test
    void optionsHaveDefaultsAQuickPresetAndOverrides() {
        SuiteOptions full = SuiteOptions.parse();
        assertEquals(1500, full.integer("fuzz-requests"));
        assertEquals(2000, full.integer("soak-requests"));
        assertEquals(32, full.integer("concurrency"));
        assertEquals(0.3, full.decimal("disconnect-fraction"));
        assertEquals(SuiteOptions.PHASES, full.phases());

        SuiteOptions quick = SuiteOptions.parse("--quick", "--soak-requests", "50", "--phases=fuzz,soak");
        assertTrue(quick.quick());
        assertEquals(150, quick.integer("fuzz-requests"));
        assertEquals(50, quick.integer("soak-requests"));
        assertEquals(List.of("fuzz", "soak"), quick.phases());

        assertThrows(IllegalArgumentException.class, () -> SuiteOptions.parse("--nope", "1"));
        assertThrows(IllegalArgumentException.class, () -> SuiteOptions.parse("--phases", "fuzz,bogus"));
        assertThrows(IllegalArgumentException.class, () -> SuiteOptions.parse("--disconnect-fraction", "1.5"));
        assertThrows(IllegalArgumentException.class, () -> SuiteOptions.parse("--seed"));
        assertThrows(IllegalArgumentException.class, () -> SuiteOptions.parse("--seed", "x").integer("seed"));
        assertTrue(SuiteOptions.usage().contains("--fuzz-requests"));
    }

    @Test
    void soakPlansAreDeterministicAndDisconnectTheAskedShare() {
        List<SoakPhase.Planned> a = SoakPhase.plan(3, 2000, 0.3, 48);
        List<SoakPhase.Planned> b = SoakPhase.plan(3, 2000, 0.3, 48);
        assertEquals(a, b);
        long dropped = a.stream().filter(p -> p.plan().disconnect() != StreamClient.Disconnect.NONE).count();
        assertTrue(dropped > 500 && dropped < 700, "dropped " + dropped);
        for (StreamClient.Disconnect d : StreamClient.Disconnect.values()) {
            assertTrue(a.stream().anyMatch(p -> p.plan().disconnect() == d), "no " + d);
        }
        assertTrue(a.stream().anyMatch(SoakPhase.Planned::chat) && a.stream().anyMatch(p -> !p.chat()));
        assertEquals(0, SoakPhase.plan(3, 100, 0, 48).stream().filter(p -> p.plan().disconnect() != StreamClient.Disconnect.NONE).count());
    }

    @Test
    void errorKindsGroupLikeErrors() {
        assertEquals("HTTP N: too many", SoakPhase.errorKind("HTTP 429: too many"));
        assertEquals(SoakPhase.errorKind("stream ended after 3 chunk(s)"), SoakPhase.errorKind("stream ended after 17 chunk(s)"));
    }

    @Test
    void smallKvPoolIsAMultipleOfTheLongestRequestInWholeBlocks() {
        assertEquals(768, SmallKvPhase.kvTokens(4));
        assertEquals(0, SmallKvPhase.kvTokens(3) % 16);
    }
}
