package dev.sluice.bench.load;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line of {@link ContentionProbe}, the Java half of {@code bin/contention}:
 * {@code measure} one load phase against running servers, or {@code report} on the phases.
 */
sealed interface ContentionCommand {

    /** {@code --help}, or no subcommand. */
    record Help(String text) implements ContentionCommand {
    }

    /** One server under test: its label, base URL, and process id whose threads are watched (0: none). */
    record Target(String name, URI baseUrl, long pid) {
    }

    /**
     * Sends the request {@code requests} times to every target in turn (after {@code warmup}
     * unmeasured rounds), stopping early once {@code maxSeconds} have passed and every target has
     * at least {@code minRequests} samples: a server slowed 300× must not hold the run for an hour.
     */
    record Measure(String load, String description, List<Target> targets, int requests, int warmup, int minRequests,
                   double maxSeconds, int maxTokens, long gapMillis, String hostBefore, Path out)
            implements ContentionCommand {
    }

    /** A pair of servers whose medians the report divides, e.g. {@code sluice/llama-server}. */
    record Pair(String numerator, String denominator) {
    }

    /** The Markdown report over the phases {@code rawDir/<load>.json}, in the order of {@code loads}. */
    record Report(Path rawDir, List<String> loads, List<String> servers, String baseline, List<Pair> pairs,
                  Path context, String command, String title, Path out) implements ContentionCommand {
    }

    static ContentionCommand parse(String[] args) throws UsageException {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            return new Help(help());
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        return switch (args[0]) {
            case "measure" -> measure(rest);
            case "report" -> report(rest);
            default -> throw new UsageException("unknown subcommand '" + args[0] + "': measure or report (see --help)");
        };
    }

    private static ArgumentParser measureOptions() {
        return new ArgumentParser()
                .add("--load", "NAME", null, "name of the load running next to the servers (required)")
                .add("--description", "TEXT", "", "what that load is, in words")
                .add("--targets", "NAME=URL,...", null, "servers to measure, in the order they are sent to (required)")
                .add("--pids", "NAME=PID,...", "", "process ids whose threads' CPU and run-queue wait are summed")
                .add("--requests", "N", "20", "measured requests per server")
                .add("--warmup", "N", "2", "unmeasured requests per server first")
                .add("--min-requests", "N", "5", "requests per server measured even past --max-seconds")
                .add("--max-seconds", "S", "90", "stop measuring after this long (once --min-requests are in)")
                .add("--max-tokens", "N", "8", "tokens generated per request")
                .add("--gap-ms", "MS", "200", "pause after each request, so one server's idle threads settle before the next")
                .add("--host-before", "TEXT", "", "the host's state before the phase, for the report")
                .add("--out", "FILE", null, "where to write the phase as JSON (required)")
                .add("--help", null, null, "this help");
    }

    private static ArgumentParser reportOptions() {
        return new ArgumentParser()
                .add("--raw", "DIR", null, "directory of the phases' JSON files, <load>.json (required)")
                .add("--loads", "LIST", null, "loads in report order, comma-separated (required)")
                .add("--servers", "LIST", null, "servers in report order, comma-separated (required)")
                .add("--baseline", "LOAD", "idle", "the load every other one is divided by")
                .add("--pairs", "A/B,...", "", "servers whose medians are compared under each load")
                .add("--context", "FILE", null, "Markdown inserted after the command (builds, machine, loads)")
                .add("--command", "TEXT", "", "the command that produced the figures")
                .add("--title", "TEXT", "Latency on a busy host", "the report's heading")
                .add("--out", "FILE", null, "where to write the Markdown report (required)")
                .add("--help", null, null, "this help");
    }

    static String help() {
        return """
                usage: ContentionProbe measure OPTIONS | ContentionProbe report OPTIONS
                The Java half of bin/contention: the script starts the servers and the loads.

                measure: sends one streaming chat request (a short prompt, --max-tokens out) to each
                server in turn and writes the latencies of one load phase.
                """ + measureOptions().help() + """

                report: the Markdown report over the phases: median and p90 end-to-end latency per
                server and load, each divided by the baseline load's, and the servers' CPU time and
                run-queue wait per request.
                """ + reportOptions().help();
    }

    private static ContentionCommand measure(String[] args) throws UsageException {
        ArgumentParser.Arguments a = measureOptions().parse(args);
        if (a.has("--help")) {
            return new Help(help());
        }
        String load = required(a, "--load");
        Map<String, String> urls = keyValues("--targets", required(a, "--targets"));
        Map<String, String> pidTexts = keyValues("--pids", a.string("--pids"));
        List<Target> targets = new ArrayList<>();
        for (Map.Entry<String, String> e : urls.entrySet()) {
            URI uri;
            try {
                uri = URI.create(e.getValue().replaceAll("/+$", ""));
            } catch (IllegalArgumentException ex) {
                throw new UsageException("--targets: '" + e.getValue() + "' is not a URL");
            }
            if (uri.getScheme() == null || uri.getHost() == null) {
                throw new UsageException("--targets: '" + e.getValue() + "' is not an http URL");
            }
            targets.add(new Target(e.getKey(), uri, pid(pidTexts.get(e.getKey()))));
        }
        for (String name : pidTexts.keySet()) {
            if (!urls.containsKey(name)) {
                throw new UsageException("--pids names '" + name + "', which is not in --targets");
            }
        }
        int requests = a.intValue("--requests", 1);
        int minRequests = Math.min(requests, a.intValue("--min-requests", 1));
        return new Measure(load, a.string("--description"), List.copyOf(targets), requests, a.intValue("--warmup", 0),
                minRequests, a.doubleValue("--max-seconds", 0), a.intValue("--max-tokens", 1),
                a.intValue("--gap-ms", 0), a.string("--host-before"), Path.of(required(a, "--out")));
    }

    private static ContentionCommand report(String[] args) throws UsageException {
        ArgumentParser.Arguments a = reportOptions().parse(args);
        if (a.has("--help")) {
            return new Help(help());
        }
        List<String> loads = names(required(a, "--loads"), "--loads");
        List<String> servers = names(required(a, "--servers"), "--servers");
        String baseline = a.string("--baseline");
        if (!loads.contains(baseline)) {
            throw new UsageException("--baseline " + baseline + " is not one of --loads " + String.join(",", loads));
        }
        List<Pair> pairs = new ArrayList<>();
        String pairText = a.string("--pairs").strip();
        for (String part : pairText.isEmpty() ? new String[0] : pairText.split(",")) {
            String[] ab = part.strip().split("/");
            if (ab.length != 2 || !servers.contains(ab[0].strip()) || !servers.contains(ab[1].strip())) {
                throw new UsageException("--pairs: '" + part.strip() + "' is not A/B of two servers in --servers");
            }
            pairs.add(new Pair(ab[0].strip(), ab[1].strip()));
        }
        String context = a.string("--context");
        return new Report(Path.of(required(a, "--raw")), loads, servers, baseline, List.copyOf(pairs),
                context == null ? null : Path.of(context), a.string("--command"), a.string("--title"),
                Path.of(required(a, "--out")));
    }

    private static String required(ArgumentParser.Arguments a, String name) throws UsageException {
        String value = a.string(name);
        if (value == null || value.isBlank()) {
            throw new UsageException(name + " is required (see --help)");
        }
        return value;
    }

    /** {@code a,b,c} as a list of distinct non-empty names. */
    static List<String> names(String text, String option) throws UsageException {
        List<String> names = new ArrayList<>();
        for (String part : text.split(",")) {
            String name = part.strip();
            if (name.isEmpty() || names.contains(name)) {
                throw new UsageException(option + ": '" + text + "' has an empty or repeated name");
            }
            names.add(name);
        }
        return List.copyOf(names);
    }

    /** {@code a=x,b=y} in order; empty text is an empty map. */
    static Map<String, String> keyValues(String option, String text) throws UsageException {
        Map<String, String> map = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return map;
        }
        for (String part : text.split(",")) {
            int eq = part.indexOf('=');
            String key = eq < 0 ? "" : part.substring(0, eq).strip();
            String value = eq < 0 ? "" : part.substring(eq + 1).strip();
            if (key.isEmpty() || value.isEmpty()) {
                throw new UsageException(option + ": '" + part.strip() + "' is not NAME=VALUE");
            }
            if (map.put(key, value) != null) {
                throw new UsageException(option + " names '" + key + "' twice");
            }
        }
        return map;
    }

    private static long pid(String text) throws UsageException {
        if (text == null) {
            return 0;
        }
        try {
            long pid = Long.parseLong(text);
            if (pid < 0) {
                throw new NumberFormatException();
            }
            return pid;
        } catch (NumberFormatException e) {
            throw new UsageException("--pids: '" + text + "' is not a process id");
        }
    }
}
