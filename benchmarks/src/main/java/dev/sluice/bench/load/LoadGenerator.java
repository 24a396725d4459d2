package dev.sluice.bench.load;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The serving load generator: drives any OpenAI-compatible server with streamed generations at
 * one or more load levels and reports throughput and latency per level, in the spirit of
 * {@code vllm bench serve}. Talks to the server only over HTTP. Run {@code bin/bench --help}.
 */
public final class LoadGenerator {

    /** The warmup's requests differ from the measured ones, so the server has not seen those yet. */
    private static final long WARMUP_SALT = 0x3c6ef372fe94f82bL;

    private final PrintStream out;
    private final PrintStream err;
    private final boolean terminal;

    LoadGenerator(PrintStream out, PrintStream err, boolean terminal) {
        this.out = out;
        this.err = err;
        this.terminal = terminal;
    }

    public static void main(String[] args) throws InterruptedException {
        System.setProperty("java.awt.headless", "true"); // the chart needs no display
        // llama-server closes the connection after every streamed response without announcing it
        // (its stream callback returns false at the end). When the client picks that connection
        // from its pool before the FIN arrives, the request gets no bytes back. The JDK retries
        // such a request, one that no server has read, only for GET unless told to: without
        // this, about one request in twenty to llama-server fails for a reason unrelated to load.
        System.setProperty("jdk.httpclient.enableAllMethodRetry", "true");
        // A server closes idle keep-alive connections (Sluice after 10 s, --http-idle-timeout, and
        // says so in Keep-Alive: timeout=10; llama-server after 5 s), and the JDK pools them for 30 s
        // by default: a request sent on one the server is closing got no bytes back (one in 32
        // requests of a qwen2.5 shared-prefix run, 2026-11-30). Idle connections are dropped first.
        if (System.getProperty("jdk.httpclient.keepalive.timeout") == null) {
            System.setProperty("jdk.httpclient.keepalive.timeout", "4");
        }
        boolean terminal = System.console() != null && System.console().isTerminal();
        int status = new LoadGenerator(System.out, System.err, terminal).run(args);
        System.exit(status);
    }

    /** Runs a command line; returns the exit status: 0 done, 1 failed, 2 bad usage. */
    int run(String[] args) throws InterruptedException {
        Command command;
        try {
            command = CommandLine.parse(args);
        } catch (UsageException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        try {
            return switch (command) {
                case Command.Help help -> {
                    out.print(help.text());
                    yield 0;
                }
                case Command.Compare compare -> compare(compare);
                case Command.Merge merge -> merge(merge);
                case Command.Benchmark benchmark -> benchmark(benchmark);
            };
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
    }

    private int compare(Command.Compare c) throws IOException {
        RunResult a = ResultsFile.read(c.a());
        RunResult b = ResultsFile.read(c.b());
        String labelA = c.labelA() != null ? c.labelA() : a.config().label();
        String labelB = c.labelB() != null ? c.labelB() : b.config().label();
        if (labelA.equals(labelB)) { // two runs of one server: tell them apart by file
            labelA = fileName(c.a());
            labelB = fileName(c.b());
        }
        String markdown = Comparison.of(labelA, a, labelB, b).markdown();
        out.print(markdown);
        if (c.markdown() != null) {
            writeText(c.markdown(), markdown);
            out.println("wrote " + c.markdown());
        }
        if (c.chart() != null) {
            ThroughputChart.writeComparison(a.config().workload() + ": " + labelA + " vs " + labelB,
                    labelA, a.summaries(), labelB, b.summaries(), c.chart());
            out.println("wrote " + c.chart());
        }
        return 0;
    }

    private int merge(Command.Merge m) throws IOException {
        List<RunResult> runs = new ArrayList<>();
        for (Path input : m.inputs()) {
            runs.add(ResultsFile.read(input));
        }
        RunResult pooled;
        try {
            pooled = RunMerge.of(runs);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        ResultsFile.write(pooled, m.out());
        out.println("wrote " + m.out() + " (" + runs.size() + " runs pooled)");
        if (m.markdown() != null) {
            writeText(m.markdown(), RunReport.markdown(pooled));
            out.println("wrote " + m.markdown());
        }
        return 0;
    }

    private int benchmark(Command.Benchmark b) throws IOException, InterruptedException {
        try (OpenAiClient client = new OpenAiClient(b.baseUrl(), b.apiKey(), b.timeout(), b.sessionHeader())) {
            return benchmark(b, client);
        }
    }

    private int benchmark(Command.Benchmark b, OpenAiClient client) throws IOException, InterruptedException {
        String model = b.model() != null ? b.model() : firstModel(client, b);
        Generation generation = new Generation(b.endpoint(), model, b.temperature(), b.responseFormat());
        PromptRenderer renderer = new PromptRenderer(b.promptFormat(), b.vocabMin(), b.vocabMax());
        List<LoadPattern> levels = b.levels();
        if (b.workload().singleStream() && !levels.equals(List.of(new LoadPattern.ClosedLoop(1)))) {
            out.println("note: workload " + b.workload().name() + " measures batch-1 latency; running at concurrency 1 only");
            levels = List.of(new LoadPattern.ClosedLoop(1));
        }
        String label = b.label() != null ? b.label() : model;
        String startedAt = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        out.printf("%s: %s%s, model %s, workload %s, %d level(s)%n", label, b.baseUrl(), b.endpoint().path(), model,
                b.workload().name(), levels.size());

        if (b.warmupRequests() > 0) {
            warmUp(b, client, generation, renderer, levels.getFirst());
        }
        LevelRunner runner = new LevelRunner(client, generation, b.workload(), renderer, b.seed());
        List<LevelResult> results = new ArrayList<>();
        for (LoadPattern level : levels) {
            LevelCounters counters = new LevelCounters();
            StopCondition stop = b.stop().forLevel(level);
            ProgressLine progress = b.progress() ? new ProgressLine(level.label(), stop, counters, out, terminal) : null;
            LevelRun run;
            try {
                run = runner.run(level, stop, counters);
            } finally {
                if (progress != null) {
                    progress.stop();
                }
            }
            LevelSummary summary = LevelSummary.of(level, run, b.slo());
            out.print(RunReport.terminal(summary));
            results.add(new LevelResult(summary, run.samples()));
        }

        RunConfig config = new RunConfig(label, b.baseUrl().toString(), b.endpoint().path(), model,
                b.workload().name(), b.promptFormat().name().toLowerCase(Locale.ROOT), b.vocabMin(),
                b.vocabMax(), b.seed(), b.stop().maxRequests() == Integer.MAX_VALUE ? 0 : b.stop().maxRequests(),
                b.stop().duration() == null ? 0 : b.stop().duration().toMillis() / 1000.0,
                b.warmupRequests(), b.temperature(), b.slo().ttftMs(), b.slo().tpotMs(), startedAt);
        RunResult result = new RunResult(config, List.copyOf(results));
        write(b, result);
        boolean anySuccess = result.summaries().stream().anyMatch(s -> s.succeeded() > 0);
        if (!anySuccess) {
            err.println("error: no request succeeded");
        }
        return anySuccess ? 0 : 1;
    }

    private void warmUp(Command.Benchmark b, OpenAiClient client, Generation generation, PromptRenderer renderer,
                        LoadPattern firstLevel) throws InterruptedException {
        int concurrency = switch (firstLevel) {
            case LoadPattern.ClosedLoop closed -> closed.concurrency();
            case LoadPattern.OpenLoop open -> open.maxConcurrency() > 0 ? open.maxConcurrency() : b.warmupRequests();
        };
        LevelRunner warmup = new LevelRunner(client, generation, b.workload(), renderer, b.seed() ^ WARMUP_SALT);
        LevelRun run = warmup.run(new LoadPattern.ClosedLoop(Math.min(concurrency, b.warmupRequests())),
                StopCondition.requests(b.warmupRequests()), new LevelCounters());
        long failed = run.samples().stream().filter(s -> !s.success()).count();
        out.printf("warmup: %d request(s), %d failed, %.1f s%n", run.samples().size(), failed, run.durationS());
    }

    private void write(Command.Benchmark b, RunResult result) throws IOException {
        if (b.out() != null) {
            ResultsFile.write(result, b.out());
            out.println("wrote " + b.out());
        }
        if (b.markdown() != null) {
            writeText(b.markdown(), RunReport.markdown(result));
            out.println("wrote " + b.markdown());
        }
        if (b.chart() != null) {
            String title = "Output tokens/s and TTFT vs " + result.levels().getFirst().summary().load().axisTitle()
                    + ": " + result.config().label();
            ThroughputChart.write(title, result.summaries(), b.chart());
            out.println("wrote " + b.chart());
        }
    }

    private static String firstModel(OpenAiClient client, Command.Benchmark b) throws IOException, InterruptedException {
        List<String> ids;
        try {
            ids = client.modelIds();
        } catch (IOException e) {
            String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw new IOException("cannot list the models at " + b.baseUrl() + " (" + why + "); pass --model", e);
        }
        if (ids.isEmpty()) {
            throw new IOException(b.baseUrl() + "/v1/models lists no model; pass --model");
        }
        return ids.getFirst();
    }

    private static void writeText(Path path, String text) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(path, text);
    }

    private static String fileName(Path path) {
        String name = path.getFileName().toString();
        return name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
    }
}
