package dev.sluice.bench.reliability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The busy-host contention figures come from {@code bin/contention}, when the checkout has it: run
 * with a quick setting, its output's summary goes into the report with the command. Without it,
 * the phase says so; it never builds its own.
 */
final class ContentionPhase {

    static final String NAME = "contention";
    private static final int TIMEOUT_MINUTES = 30;

    private final Suite suite;

    ContentionPhase(Suite suite) {
        this.suite = suite;
    }

    PhaseResult run() throws IOException, InterruptedException {
        Path script = suite.options().path("repo-root").resolve("bin/contention");
        String title = "Contention (bin/contention)";
        if (!Files.isExecutable(script)) {
            return new PhaseResult(NAME, title, "", List.of(new Criterion("contention ratios", "not available: bin/contention "
                    + "does not exist in this checkout", Verdict.NOT_RUN)), "bin/contention is not available in this checkout.");
        }
        List<String> args = new ArrayList<>();
        String given = suite.options().text("contention-args");
        if (!given.isBlank()) {
            args.addAll(List.of(given.strip().split("\\s+")));
        } else if (help(script).contains("--quick")) {
            args.add("--quick");
        }
        List<String> command = new ArrayList<>(List.of(script.toString()));
        command.addAll(args);
        String shown = "bin/contention" + (args.isEmpty() ? "" : " " + String.join(" ", args));
        Path log = suite.logDir().resolve("contention.log");
        Suite.progress(NAME, shown);
        Process p = new ProcessBuilder(command).directory(suite.options().path("repo-root").toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        boolean finished = p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES);
        if (!finished) {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        List<String> lines = output.lines().toList();
        List<String> ratioLines = lines.stream().filter(l -> l.toLowerCase().contains("ratio")).limit(30).toList();
        String exit = finished ? "exit " + p.exitValue() : "timed out after " + TIMEOUT_MINUTES + " min";
        List<Criterion> criteria = List.of(new Criterion("contention ratios (command: " + shown + ")",
                exit + (ratioLines.isEmpty() ? "" : "; " + ratioLines.getFirst().strip()),
                finished && p.exitValue() == 0 ? Verdict.INFO : Verdict.FAIL));
        StringBuilder md = new StringBuilder("Command: `" + shown + "` (" + exit + "). Its output, last 60 lines:\n\n```\n");
        md.append(String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())).replace("```", "'''")).append("\n```\n");
        return new PhaseResult(NAME, title, "", criteria, md.toString());
    }

    private static String help(Path script) {
        try {
            Process p = new ProcessBuilder(script.toString(), "--help").redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readNBytes(64 * 1024);
            p.waitFor(60, TimeUnit.SECONDS);
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }
}
