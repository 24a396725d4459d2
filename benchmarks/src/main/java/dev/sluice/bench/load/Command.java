package dev.sluice.bench.load;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** What a command line asks for: help, a benchmark run, a comparison of two results files, or a merge of several. */
sealed interface Command {

    record Help(String text) implements Command {
    }

    /**
     * A benchmark run. {@code model} and {@code apiKey} are null when not given (the model is then
     * asked of the server); {@code out}, {@code markdown} and {@code chart} are null when not wanted;
     * {@code sessionHeader} names the header that carries a session key, null for none.
     */
    record Benchmark(
            URI baseUrl,
            Endpoint endpoint,
            String model,
            String apiKey,
            Workload workload,
            PromptFormat promptFormat,
            int vocabMin,
            int vocabMax,
            long seed,
            List<LoadPattern> levels,
            StopCondition stop,
            int warmupRequests,
            double temperature,
            Duration timeout,
            Slo slo,
            String label,
            Path out,
            Path markdown,
            Path chart,
            boolean progress,
            String sessionHeader,
            com.fasterxml.jackson.databind.JsonNode responseFormat) implements Command {
    }

    /** Two results files side by side; labels null to take each run's own; markdown and chart optional. */
    record Compare(Path a, Path b, String labelA, String labelB, Path markdown, Path chart) implements Command {
    }

    /** Results files of one server's rounds pooled into {@code out} (see {@link RunMerge}); markdown optional. */
    record Merge(List<Path> inputs, Path out, Path markdown) implements Command {
    }
}
