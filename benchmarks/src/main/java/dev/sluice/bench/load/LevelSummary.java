package dev.sluice.bench.load;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The figures of one level, defined as {@code vllm bench serve} defines them: throughputs divide
 * by the level's wall time; only successful requests count towards tokens and latencies; TPOT is
 * over requests with at least two output tokens; ITL pools every chunk gap of every request.
 *
 * @param errors how many requests failed with each error message, the most frequent first
 */
record LevelSummary(
        LoadPattern load,
        int succeeded,
        int failed,
        double durationS,
        long promptTokens,
        long outputTokens,
        double requestThroughput,
        double outputTokensPerS,
        double totalTokensPerS,
        double goodput,
        int peakConcurrency,
        Distribution ttftMs,
        Distribution tpotMs,
        Distribution itlMs,
        Distribution e2eMs,
        Map<String, Integer> errors) {

    static LevelSummary of(LoadPattern load, LevelRun run, Slo slo) {
        List<RequestSample> ok = run.samples().stream().filter(RequestSample::success).toList();
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (RequestSample sample : run.samples()) {
            if (!sample.success()) {
                counts.merge(sample.error(), 1, Integer::sum);
            }
        }
        Map<String, Integer> errors = new LinkedHashMap<>();
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .forEachOrdered(e -> errors.put(e.getKey(), e.getValue()));
        long promptTokens = ok.stream().mapToLong(RequestSample::promptTokens).sum();
        long outputTokens = ok.stream().mapToLong(RequestSample::outputTokens).sum();
        long good = ok.stream().filter(slo::metBy).count();
        double seconds = run.durationS();
        return new LevelSummary(
                load,
                ok.size(),
                run.samples().size() - ok.size(),
                seconds,
                promptTokens,
                outputTokens,
                perSecond(ok.size(), seconds),
                perSecond(outputTokens, seconds),
                perSecond(promptTokens + outputTokens, seconds),
                perSecond(good, seconds),
                run.peakConcurrency(),
                Distribution.of(ok.stream().mapToDouble(RequestSample::ttftMs).toArray()),
                Distribution.of(ok.stream().filter(s -> s.outputTokens() > 1).mapToDouble(RequestSample::tpotMs).toArray()),
                Distribution.of(ok.stream().flatMapToDouble(s -> Arrays.stream(s.itlMs())).toArray()),
                Distribution.of(ok.stream().mapToDouble(RequestSample::e2eMs).toArray()),
                Collections.unmodifiableMap(errors));
    }

    private static double perSecond(double count, double seconds) {
        return seconds > 0 ? count / seconds : 0;
    }
}
