package dev.sluice.bench.load;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CommandLineTest {

    private static Command.Benchmark benchmark(String... args) throws UsageException {
        return assertInstanceOf(Command.Benchmark.class, CommandLine.parse(args));
    }

    private static String error(String... args) {
        return assertThrows(UsageException.class, () -> CommandLine.parse(args)).getMessage();
    }

    @Test
    void defaults() throws UsageException {
        Command.Benchmark b = benchmark();
        assertEquals(URI.create("http://127.0.0.1:8080"), b.baseUrl());
        assertEquals(Endpoint.COMPLETIONS, b.endpoint());
        assertNull(b.model());
        assertNull(b.apiKey());
        assertEquals("chat-like", b.workload().name());
        assertEquals(PromptFormat.IDS, b.promptFormat());
        assertEquals(1000, b.vocabMin());
        assertEquals(20000, b.vocabMax());
        assertEquals(List.of(new LoadPattern.ClosedLoop(1)), b.levels());
        assertEquals(StopCondition.requests(100), b.stop());
        assertEquals(0, b.warmupRequests());
        assertEquals(1, b.temperature(), "what OpenAI clients send by default");
        assertEquals(0, benchmark("--temperature", "0").temperature(), "greedy");
        assertTrue(error("--temperature", "-0.5").contains("--temperature"));
        assertEquals(Duration.ofSeconds(600), b.timeout());
        assertEquals(new Slo(1000, 100), b.slo());
        assertNull(b.out());
        assertTrue(b.progress());
    }

    @Test
    void parsesLevelsLimitsAndOutputs() throws UsageException {
        Command.Benchmark b = benchmark("--concurrency", "1,8, 32,64", "--base-url=http://h:9/v1/", "--model", "m",
                "--duration", "1.5", "--out", "r.json", "--no-progress", "--seed", "-4");
        assertEquals(List.of(1, 8, 32, 64), b.levels().stream().map(l -> ((LoadPattern.ClosedLoop) l).concurrency()).toList());
        assertEquals(URI.create("http://h:9"), b.baseUrl(), "a trailing /v1 is dropped: the tool adds it");
        assertEquals(new StopCondition(Integer.MAX_VALUE, Duration.ofMillis(1500)), b.stop());
        assertEquals(Path.of("r.json"), b.out());
        assertEquals(-4, b.seed());
        assertTrue(!b.progress());

        Command.Benchmark open = benchmark("--request-rate", "2,inf", "--max-concurrency", "16", "--num-requests", "50",
                "--duration", "60");
        assertEquals(List.of(new LoadPattern.OpenLoop(2, 16), new LoadPattern.OpenLoop(Double.POSITIVE_INFINITY, 16)), open.levels());
        assertEquals(new StopCondition(50, Duration.ofSeconds(60)), open.stop());
        assertEquals("rate inf/s (max 16 in flight)", open.levels().get(1).label());
    }

    @Test
    void chatAlwaysSendsText() throws UsageException {
        assertEquals(PromptFormat.TEXT, benchmark("--endpoint", "chat").promptFormat());
        assertTrue(error("--endpoint", "chat", "--prompt-tokens", "ids").contains("chat messages are text"));
    }

    @Test
    void rejectsBadCommandLinesWithAHint() {
        assertEquals("unknown option --concurency (see --help)", error("--concurency", "4"));
        assertTrue(error("--concurrency", "4", "--request-rate", "2").contains("exclude each other"));
        assertTrue(error("--max-concurrency", "4").contains("needs --request-rate"));
        assertEquals("--concurrency values must be at least 1, got 0", error("--concurrency", "1,0"));
        assertEquals("--num-requests expects an integer, got 'ten'", error("--num-requests", "ten"));
        assertEquals("--request-rate values must be positive, got '-1'", error("--request-rate", "-1"));
        assertEquals("--model needs 1 value(s): NAME", error("--model"));
        assertEquals("--seed is given twice", error("--seed", "1", "--seed", "2"));
        assertTrue(error("--vocab-min", "5000", "--vocab-max", "10").contains("above --vocab-min"));
        assertTrue(error("--base-url", "localhost:8080").contains("http(s) URL"));
        assertTrue(error("results.json").startsWith("unexpected argument"));
        assertEquals("--labels goes with --compare", error("--labels", "a,b"));
        assertTrue(error("--compare", "a.json", "b.json", "--concurrency", "4").contains("does not go with --compare"));
        assertTrue(error("--compare", "a.json", "b.json", "--labels", "only-one").contains("two names"));
        assertTrue(error("--compare", "a.json").contains("needs 2 value(s)"));
        assertTrue(error("--workload", "huge").contains("unknown --workload"));
    }

    @Test
    void parsesCompare() throws UsageException {
        Command.Compare c = assertInstanceOf(Command.Compare.class,
                CommandLine.parse(new String[] {"--compare", "a.json", "b.json", "--labels", "sluice, llama-server"}));
        assertEquals(new Command.Compare(Path.of("a.json"), Path.of("b.json"), "sluice", "llama-server", null, null), c);
    }

    @Test
    void helpDocumentsEveryOptionWithItsDefault() throws UsageException {
        String help = assertInstanceOf(Command.Help.class, CommandLine.parse(new String[] {"--concurrency", "2", "--help"})).text();
        for (String option : List.of("--base-url", "--endpoint", "--model", "--api-key", "--workload", "--prompt-tokens",
                "--vocab-min", "--vocab-max", "--seed", "--concurrency", "--request-rate", "--max-concurrency",
                "--num-requests", "--duration", "--warmup-requests", "--temperature", "--timeout", "--slo-ttft-ms",
                "--slo-tpot-ms", "--label", "--out", "--markdown", "--chart", "--no-progress", "--compare", "--labels", "--help")) {
            assertTrue(help.contains("\n  " + option), option);
        }
        assertTrue(help.contains("(default: http://127.0.0.1:8080)"), help);
        assertTrue(help.contains("(default: 1000)"), help);
        for (Workload workload : Workloads.ALL) {
            assertTrue(help.contains(workload.name() + ": " + workload.description()), workload.name());
        }
    }
}
