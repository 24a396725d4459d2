package dev.sluice.bench.load;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The load generator's options: their table (which is also {@code --help}) and their validation. */
final class CommandLine {

    static final String DEFAULT_BASE_URL = "http://127.0.0.1:8080";
    static final int DEFAULT_NUM_REQUESTS = 100;

    private static final Set<String> COMPARE_OPTIONS = Set.of("--compare", "--labels", "--markdown", "--chart");
    private static final Set<String> MERGE_OPTIONS = Set.of("--merge", "--out", "--markdown");

    private CommandLine() {
    }

    private static ArgumentParser parser() {
        StringBuilder workloads = new StringBuilder("synthetic traffic, deterministic from --seed:");
        for (Workload workload : Workloads.ALL) {
            workloads.append("\n  ").append(workload.name()).append(": ").append(workload.description());
        }
        return new ArgumentParser()
                .add("--base-url", "URL", DEFAULT_BASE_URL, "the server; requests go to URL/v1/... (a trailing /v1 in URL is fine)")
                .add("--endpoint", "completions|chat", "completions",
                        "POST /v1/completions or /v1/chat/completions, streamed")
                .add("--model", "NAME", null, "the model field of every request (default: the first id GET /v1/models lists)")
                .add("--api-key", "KEY", null, "sent as 'Authorization: Bearer KEY' (default: none)")
                .add("--workload", "NAME", "chat-like", workloads.toString())
                .add("--prompt-tokens", "ids|text", "ids",
                        "completions prompts as token-id arrays (exact lengths) or as text; chat always sends text")
                .add("--vocab-min", "ID", "1000", "smallest token id drawn for prompts")
                .add("--vocab-max", "ID", "20000", "token ids are drawn below this")
                .add("--seed", "N", "0", "seed of the request sequence and of open-loop arrivals")
                .add("--concurrency", "LIST", "1",
                        "closed loop: N workers, each sending its next request when the previous ends;\n"
                                + "a comma-separated list (1,8,32,64) runs one level per value")
                .add("--request-rate", "LIST", null,
                        "open loop instead: Poisson arrivals at R requests/s ('inf': all at once);\n"
                                + "a comma-separated list runs one level per rate")
                .add("--max-concurrency", "N", null, "with --request-rate: at most N requests in flight (default: no cap)")
                .add("--num-requests", "N", Integer.toString(DEFAULT_NUM_REQUESTS), "requests per level")
                .add("--requests-per-concurrency", "F", "0",
                        "closed loop: send at least F x concurrency requests at each level (0: --num-requests only)")
                .add("--duration", "SECONDS", null,
                        "stop sending after this long instead (with --num-requests too: whichever comes first);\n"
                                + "requests in flight then finish and count")
                .add("--warmup-requests", "N", "0", "requests sent before the first level and not recorded")
                .add("--temperature", "T", "1", "sampling temperature (1, as OpenAI clients default to; 0 for greedy)")
                .add("--timeout", "SECONDS", "600", "how long to wait for a response's headers")
                .add("--slo-ttft-ms", "MS", "1000", "goodput counts requests with TTFT at most this...")
                .add("--slo-tpot-ms", "MS", "100", "...and TPOT at most this")
                .add("--label", "NAME", null, "names the run in reports and comparisons (default: the model)")
                .add("--out", "FILE", null, "write JSON results: config, per-level summaries, every request's samples")
                .add("--markdown", "FILE", null, "write a Markdown report (with --compare: the comparison)")
                .add("--chart", "FILE", null, "write a PNG chart of output tokens/s and TTFT p50/p99 per level\n"
                        + "(with --compare: both runs' output tokens/s and TTFT p99)")
                .add("--response-format", "JSON|@FILE", null, "send this response_format with every request, e.g.\n"
                        + "'{\"type\":\"json_object\"}' or @benchmarks/schemas/json-array.json; no ignore_eos then")
                .add("--no-progress", null, null, "no live progress line")
                .add("--session-header", "NAME", null, "send header NAME with a session key: a hash of the first "
                        + OpenAiClient.SESSION_KEY_TOKENS + " prompt-prefix tokens (a multi-turn conversation; the one "
                        + "system prompt of shared-prefix), for load balancers that route by session (default: none)")
                .add(new ArgumentParser.Option("--compare", "A.json B.json", 2, null,
                        "compare two --out files instead of running: every figure side by side with the ratio A/B"))
                .add("--labels", "A,B", null, "with --compare: the two runs' names (default: their --label)")
                .add("--merge", "A.json,B.json,...", null, "pool --out files of one server's rounds into one (--out), as if run back to back:\n"
                        + "per level every request, over the sum of the rounds' wall times")
                .add("--help", null, null, "print this help");
    }

    static String help() {
        return """
                Usage: bin/bench [OPTIONS]
                       bin/bench --compare A.json B.json [--labels A,B] [--markdown FILE] [--chart FILE]
                       bin/bench --merge A.json,B.json,... --out POOLED.json [--markdown FILE]

                Drives an OpenAI-compatible server (Sluice, llama-server, vLLM, ...) with streamed
                generations and reports throughput, TTFT, TPOT, ITL and end-to-end latency per load level.

                Options:
                """ + parser().help();
    }

    static Command parse(String[] args) throws UsageException {
        ArgumentParser.Arguments a = parser().parse(args);
        if (a.has("--help")) {
            return new Command.Help(help());
        }
        if (a.has("--compare")) {
            return compare(a);
        }
        if (a.has("--merge")) {
            return merge(a);
        }
        if (a.has("--labels")) {
            throw new UsageException("--labels goes with --compare");
        }
        return benchmark(a);
    }

    private static Command.Compare compare(ArgumentParser.Arguments a) throws UsageException {
        for (String name : a.given()) {
            if (!COMPARE_OPTIONS.contains(name)) {
                throw new UsageException(name + " does not go with --compare (only --labels, --markdown and --chart do)");
            }
        }
        List<String> files = a.values("--compare");
        String labelA = null;
        String labelB = null;
        if (a.has("--labels")) {
            String[] labels = a.string("--labels").split(",", -1);
            if (labels.length != 2 || labels[0].isBlank() || labels[1].isBlank()) {
                throw new UsageException("--labels needs two names separated by a comma, e.g. sluice,llama-server");
            }
            labelA = labels[0].strip();
            labelB = labels[1].strip();
        }
        return new Command.Compare(Path.of(files.get(0)), Path.of(files.get(1)), labelA, labelB, path(a, "--markdown"),
                path(a, "--chart"));
    }

    private static Command.Merge merge(ArgumentParser.Arguments a) throws UsageException {
        for (String name : a.given()) {
            if (!MERGE_OPTIONS.contains(name)) {
                throw new UsageException(name + " does not go with --merge (only --out and --markdown do)");
            }
        }
        if (!a.has("--out")) {
            throw new UsageException("--merge needs --out, the pooled results file");
        }
        List<Path> inputs = new ArrayList<>();
        for (String file : a.string("--merge").split(",", -1)) {
            if (file.isBlank()) {
                throw new UsageException("--merge takes results files separated by commas, e.g. r1.json,r2.json");
            }
            inputs.add(Path.of(file.strip()));
        }
        return new Command.Merge(List.copyOf(inputs), path(a, "--out"), path(a, "--markdown"));
    }

    private static Command.Benchmark benchmark(ArgumentParser.Arguments a) throws UsageException {
        Endpoint endpoint = Endpoint.fromCliName(a.string("--endpoint"));
        PromptFormat format = PromptFormat.fromCliName(a.string("--prompt-tokens"));
        if (endpoint == Endpoint.CHAT) {
            if (a.has("--prompt-tokens") && format == PromptFormat.IDS) {
                throw new UsageException("--prompt-tokens ids needs --endpoint completions: chat messages are text");
            }
            format = PromptFormat.TEXT;
        }
        int vocabMin = a.intValue("--vocab-min", 0);
        int vocabMax = a.intValue("--vocab-max", 1);
        if (vocabMax <= vocabMin) {
            throw new UsageException("--vocab-max must be above --vocab-min");
        }
        Duration duration = a.has("--duration")
                ? Duration.ofMillis(Math.round(a.doubleValue("--duration", 0.001) * 1000)) : null;
        int numRequests = a.has("--num-requests") || duration == null
                ? a.intValue("--num-requests", 1) : Integer.MAX_VALUE;
        double timeoutS = a.doubleValue("--timeout", 0.001);
        return new Command.Benchmark(
                baseUrl(a.string("--base-url")),
                endpoint,
                a.string("--model"),
                a.string("--api-key"),
                Workloads.byName(a.string("--workload")),
                format,
                vocabMin,
                vocabMax,
                seed(a.string("--seed")),
                levels(a),
                new StopCondition(numRequests, duration, a.intValue("--requests-per-concurrency", 0)),
                a.intValue("--warmup-requests", 0),
                a.doubleValue("--temperature", 0),
                Duration.ofMillis(Math.round(timeoutS * 1000)),
                new Slo(a.doubleValue("--slo-ttft-ms", 0), a.doubleValue("--slo-tpot-ms", 0)),
                a.string("--label"),
                path(a, "--out"),
                path(a, "--markdown"),
                path(a, "--chart"),
                !a.has("--no-progress"),
                a.string("--session-header"), responseFormat(a.string("--response-format")));
    }

    private static com.fasterxml.jackson.databind.JsonNode responseFormat(String value) throws UsageException {
        if (value == null) {
            return null;
        }
        try {
            String text = value.startsWith("@") ? java.nio.file.Files.readString(Path.of(value.substring(1))) : value;
            com.fasterxml.jackson.databind.JsonNode node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
            if (node == null || !node.isObject()) {
                throw new UsageException("--response-format must be a JSON object");
            }
            return node;
        } catch (java.io.IOException e) {
            throw new UsageException("--response-format: " + e.getMessage());
        }
    }

    private static List<LoadPattern> levels(ArgumentParser.Arguments a) throws UsageException {
        List<LoadPattern> levels = new ArrayList<>();
        if (a.has("--request-rate")) {
            if (a.has("--concurrency")) {
                throw new UsageException("--concurrency (closed loop) and --request-rate (open loop) exclude each other;"
                        + " cap an open loop with --max-concurrency");
            }
            int cap = a.has("--max-concurrency") ? a.intValue("--max-concurrency", 1) : 0;
            for (double rate : a.positiveRates("--request-rate")) {
                levels.add(new LoadPattern.OpenLoop(rate, cap));
            }
        } else {
            if (a.has("--max-concurrency")) {
                throw new UsageException("--max-concurrency caps an open loop: it needs --request-rate");
            }
            for (int concurrency : a.positiveInts("--concurrency")) {
                levels.add(new LoadPattern.ClosedLoop(concurrency));
            }
        }
        return List.copyOf(levels);
    }

    private static URI baseUrl(String text) throws UsageException {
        try {
            String trimmed = text.strip().replaceAll("/+$", "");
            // OpenAI SDKs take the base URL with /v1; this tool adds /v1 itself, so accept either.
            URI uri = new URI(trimmed.endsWith("/v1") ? trimmed.substring(0, trimmed.length() - 3) : trimmed);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new UsageException("--base-url must be an http(s) URL such as " + DEFAULT_BASE_URL + ", got '" + text + "'");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new UsageException("--base-url is not a URL: " + e.getMessage());
        }
    }

    private static long seed(String text) throws UsageException {
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw new UsageException("--seed expects an integer, got '" + text + "'");
        }
    }

    private static Path path(ArgumentParser.Arguments a, String name) {
        return a.has(name) ? Path.of(a.string(name)) : null;
    }
}
