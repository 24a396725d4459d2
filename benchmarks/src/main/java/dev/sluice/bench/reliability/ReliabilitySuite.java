package dev.sluice.bench.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code bin/reliability}'s entry point: runs the chosen phases against servers it starts itself
 * and writes the Markdown report. Exits 0 when every criterion passed, 1 when one failed, 2 on a
 * usage error.
 */
public final class ReliabilitySuite {

    private ReliabilitySuite() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            System.out.print(SuiteOptions.usage());
            return;
        }
        SuiteOptions options;
        try {
            options = SuiteOptions.parse(args);
            if (options.text("model").isBlank() || options.text("server-classpath").isBlank()) {
                throw new IllegalArgumentException("--model and --server-classpath are required (bin/reliability sets them)");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        Path logDir = options.path("log-dir");
        Files.createDirectories(logDir);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path model = options.path("model");
        Path fuzzModel = options.text("fuzz-model").isBlank() ? model : options.path("fuzz-model");
        List<String> jvmArgs = List.of(options.text("server-jvm-args").strip().split("\\s+"));
        Suite suite = new Suite(options,
                new ServerProcess.Launcher(java, jvmArgs, options.text("server-classpath"), model, List.of(), logDir),
                new ServerProcess.Launcher(java, jvmArgs, options.text("server-classpath"), fuzzModel, List.of(), logDir), logDir);

        String date = LocalDate.now().toString();
        Path out = options.text("out").isBlank() ? Path.of("benchmarks", "results", date + "-reliability.md") : options.path("out");
        List<PhaseResult> results = new ArrayList<>();
        long start = System.nanoTime();
        for (String phase : options.phases()) {
            long phaseStart = System.nanoTime();
            Suite.progress(phase, "starting");
            PhaseResult result = runPhase(suite, phase);
            results.add(result);
            Suite.progress(phase, "done in " + Math.round((System.nanoTime() - phaseStart) / 1e9) + " s"
                    + (result.failed() ? " (with FAILs)" : ""));
            // Written after every phase, so a run cut short still leaves its findings.
            write(out, suite, date, results, start);
        }
        long fails = results.stream().flatMap(r -> r.criteria().stream()).filter(c -> c.verdict() == Verdict.FAIL).count();
        System.out.println("report: " + out + " (" + fails + " criteria failed)");
        System.exit(fails == 0 ? 0 : 1);
    }

    private static PhaseResult runPhase(Suite suite, String phase) {
        try {
            return switch (phase) {
                case "fuzz" -> new FuzzPhase(suite).run();
                case "soak" -> new SoakPhase(suite).run();
                case "slow-readers" -> new SlowReaderPhase(suite).run();
                case "small-kv" -> new SmallKvPhase(suite).run();
                case "sigterm" -> new SigtermPhase(suite).run();
                case "contention" -> new ContentionPhase(suite).run();
                default -> throw new IllegalArgumentException(phase);
            };
        } catch (Exception e) {
            Suite.progress(phase, "could not run: " + e);
            return PhaseResult.broken(phase, phase + ": could not run", String.valueOf(e.getMessage()).lines().findFirst().orElse(e.toString()));
        }
    }

    private static void write(Path out, Suite suite, String date, List<PhaseResult> results, long start) throws IOException {
        SuiteOptions o = suite.options();
        List<String> context = new ArrayList<>();
        context.add("Models: " + o.path("model").getFileName() + " (soak, slow readers, small KV, SIGTERM); "
                + (o.text("fuzz-model").isBlank() ? o.path("model") : o.path("fuzz-model")).getFileName() + " (fuzz).");
        context.add("Machine: " + Runtime.getRuntime().availableProcessors() + " CPUs, Java " + System.getProperty("java.version")
                + ", " + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ". Runs took "
                + Math.round((System.nanoTime() - start) / 1e9) + " s in all.");
        context.add("Server logs and raw per-request results: `" + suite.logDir() + "/` (not committed).");
        String revision = System.getenv("SLUICE_REVISION");
        if (revision != null && !revision.isBlank()) {
            context.add("Revision: " + revision + ".");
        }
        String command = o.text("command").isBlank() ? "bin/reliability " + String.join(" ", o.values().entrySet().stream()
                .map(e -> "--" + e.getKey() + " " + e.getValue()).toList()) : o.text("command");
        String md = ReportWriter.render(new ReportWriter.Header(date, command, context), results);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, md);
    }
}
