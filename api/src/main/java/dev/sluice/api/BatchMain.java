package dev.sluice.api;

import dev.sluice.api.batch.OfflineBatch;
import dev.sluice.api.batch.Progress;
import dev.sluice.api.models.ModelSpec;
import dev.sluice.api.openai.BatchLines;
import dev.sluice.engine.Engine;
import dev.sluice.scheduler.EngineService;
import dev.sluice.scheduler.SchedulerConfig;

import java.io.Console;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code bin/batch}'s entry point: {@code bin/batch [--option VALUE]... IN.jsonl OUT.jsonl} runs a
 * Batch API input file on one model with no server (see {@link OfflineBatch}). The options are
 * the server's (model, device, threads, KV cache, …); {@code --batch-max-in-flight} defaults to
 * {@code --max-seqs} here, since nothing interactive needs room.
 */
public final class BatchMain {

    private BatchMain() {
    }

    /** {@code args} split into options and the two paths. */
    record Arguments(List<String> options, List<String> paths) {
        static Arguments split(String[] args) {
            List<String> options = new ArrayList<>();
            List<String> paths = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.startsWith("--")) {
                    options.add(a);
                    if (!a.contains("=") && !a.equals("--help") && i + 1 < args.length) {
                        options.add(args[++i]);
                    }
                } else {
                    paths.add(a);
                }
            }
            return new Arguments(options, paths);
        }
    }

    public static void main(String[] args) throws Exception {
        Arguments a = Arguments.split(args);
        ServerConfig config;
        try {
            if (a.paths().size() != 2 && !a.options().contains("--help")) {
                throw new ServerConfig.InvalidConfigException("give the input and output files: bin/batch [--option VALUE]... IN.jsonl OUT.jsonl");
            }
            config = ServerConfig.load(a.options().toArray(String[]::new), System.getenv());
        } catch (Cli.HelpRequested e) {
            System.out.print("Usage: bin/batch [--option VALUE]... IN.jsonl OUT.jsonl\n\n"
                    + "Runs a Batch API input file (one {\"custom_id\", \"method\", \"url\", \"body\"} per line) on one model,\n"
                    + "without a server, and writes one result line per input line to OUT.jsonl (resuming it if it exists).\n"
                    + "The options are bin/server's (bin/server --help); --batch-max-in-flight defaults to --max-seqs.\n");
            return;
        } catch (ServerConfig.InvalidConfigException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        boolean explicitInFlight = a.options().stream().anyMatch(o -> o.startsWith("--batch-max-in-flight"))
                || System.getenv(Option.BATCH_MAX_IN_FLIGHT.environmentVariable()) != null;
        int inFlight = explicitInFlight ? config.batchMaxInFlight() : config.maxSeqs();
        ModelSpec spec;
        try {
            spec = Main.models(config).models().getFirst();
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        Summary s = run(config, spec, Path.of(a.paths().get(0)), Path.of(a.paths().get(1)), inFlight, progress());
        System.err.println(s.text());
    }

    /** What {@link #run} reports. */
    record Summary(OfflineBatch.Summary batch) {
        String text() {
            OfflineBatch.Summary b = batch;
            return String.format(Locale.ROOT, "done: %d lines (%d already in the output), %d answered, %d failed,"
                    + " %d completion tokens in %.1f s (%.1f tok/s)", b.lines(), b.skipped(), b.answered(), b.failed(),
                    b.completionTokens(), b.seconds(), b.completionTokens() / Math.max(1e-9, b.seconds()));
        }
    }

    /** Loads the model, runs the file through it, frees the model. */
    static Summary run(ServerConfig config, ModelSpec spec, Path in, Path out, int inFlight, Progress progress)
            throws Exception {
        Engine engine = Engine.load(Main.engineOptions(config, spec));
        SchedulerConfig scheduling = new SchedulerConfig(config.maxBatchedTokens(), config.maxSeqs(), engine.maxModelLength(),
                config.prefixCaching(), 0, config.maxRequestShare(), config.maxPromptChunk(), config.batchSlack());
        EngineService service = EngineService.start(engine, scheduling);
        try {
            BatchLines lines = BatchLines.direct(service, spec.name(), config.maxResponseTokens(),
                    Duration.ofSeconds(config.requestTimeoutSeconds()), inFlight);
            return new Summary(new OfflineBatch(lines, inFlight, progress).run(in, out));
        } finally {
            service.close();
        }
    }

    private static Progress progress() {
        Console console = System.console();
        return new Progress(System.err, console != null && console.isTerminal());
    }
}
