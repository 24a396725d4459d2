package dev.sluice.bench.reliability;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code bin/reliability}'s options, with the full run's defaults and the {@code --quick} preset. */
public final class SuiteOptions {

    public static final List<String> PHASES = List.of("fuzz", "soak", "slow-readers", "small-kv", "sigterm", "contention");

    /** Name, default, help; the order of the usage text. */
    private static final String[][] SPEC = {
            {"phases", String.join(",", PHASES), "phases to run, comma-separated"},
            {"seed", "1", "seed of every generated request and plan"},
            {"fuzz-requests", "1500", "fuzz: generated malformed or hostile requests (about 1400 systematic ones, then random variations)"},
            {"fuzz-concurrency", "4", "fuzz: requests in flight at once"},
            {"fuzz-batch", "25", "fuzz: requests between two checks that the engine still serves"},
            {"request-timeout", "60", "fuzz: seconds to wait for a complete request's response"},
            {"socket-wait", "20", "fuzz: seconds an unfinished request (slowloris...) may stay open before it counts as left open"},
            {"probe-timeout", "30", "fuzz: seconds a 4-token probe may take while two n=128 streams run"},
            {"soak-requests", "2000", "soak: streaming requests"},
            {"soak-jvm-options", "-Xms768m -Xmx768m -XX:+AlwaysPreTouch", "soak: JVM options of its server: a fixed heap, "
                    + "committed at startup, so RSS shows native and off-heap growth (where KV, graph and sampler memory lives) "
                    + "rather than how far G1 chose to grow the heap; empty: bin/server's defaults"},
            {"soak-warmup-requests", "1000", "soak: requests of the same kind first, not measured: the JVM grows its heap "
                    + "(G1, by 300 MiB and more) and compiles while the first ~1000 run"},
            {"concurrency", "32", "soak: clients in flight"},
            {"disconnect-fraction", "0.3", "soak: share of clients that disconnect at a random point"},
            {"soak-max-tokens", "48", "soak: most tokens a request asks for (each asks 8 to this)"},
            {"soak-kv-tokens", "32768", "soak: the server's --kv-cache-tokens, small enough that the first quarter already "
                    + "commits the whole pool (the pool is memory committed as blocks are first used); 0: the server's default"},
            {"rss-growth-limit", "5", "soak: most RSS growth in % between the first and last quarter"},
            {"slow-readers", "8", "slow-readers: slow streaming clients"},
            {"normal-clients", "4", "slow-readers: normal clients measured beside them"},
            {"normal-requests", "6", "slow-readers: requests per normal client"},
            {"small-kv-requests", "48", "small-kv: requests"},
            {"small-kv-concurrency", "16", "small-kv: clients in flight"},
            {"small-kv-factor", "4", "small-kv: KV pool size as a multiple of the longest request"},
            {"sigterm-streams", "8", "sigterm: streams in flight when SIGTERM arrives"},
            {"drain-seconds", "30", "sigterm: the server's --shutdown-drain-seconds"},
            {"threads", "0", "server compute threads (0: the server's default, physical cores)"},
            {"contention-args", "", "arguments for bin/contention (default: --quick when it has one)"},
            {"model", "", "GGUF model for soak, slow-readers, small-kv and sigterm (bin/reliability generates one)"},
            {"fuzz-model", "", "GGUF model for the fuzz phase (default: --model)"},
            {"server-classpath", "", "class path of the api module (bin/reliability sets it)"},
            {"server-jvm-args", "--enable-native-access=ALL-UNNAMED -Djava.util.logging.config.class=dev.sluice.api.LoggingSetup",
                    "the servers' JVM options (bin/reliability takes those of bin/server)"},
            {"repo-root", ".", "the checkout, where bin/contention would be"},
            {"log-dir", "benchmarks/target/reliability", "server logs and raw results"},
            {"out", "", "report path (default: benchmarks/results/<date>-reliability.md)"},
            {"command", "", "the command line to print in the report"},
    };

    /**
     * What {@code --quick} changes: a run of a few minutes that still touches every phase (on 2
     * cores about 4, most of it waiting on the server's slowest answers: the n=128 cases, 15 MB
     * prompts, the lock-out probe).
     */
    private static final Map<String, String> QUICK = Map.ofEntries(
            Map.entry("fuzz-requests", "150"), Map.entry("socket-wait", "5"), Map.entry("request-timeout", "10"),
            Map.entry("probe-timeout", "10"), Map.entry("soak-requests", "200"), Map.entry("soak-warmup-requests", "100"), Map.entry("concurrency", "16"),
            Map.entry("soak-max-tokens", "24"), Map.entry("slow-readers", "4"), Map.entry("normal-clients", "2"),
            Map.entry("normal-requests", "3"), Map.entry("small-kv-requests", "16"), Map.entry("small-kv-concurrency", "8"),
            Map.entry("sigterm-streams", "4"), Map.entry("drain-seconds", "15"));

    private final Map<String, String> values;
    private final boolean quick;

    private SuiteOptions(Map<String, String> values, boolean quick) {
        this.values = values;
        this.quick = quick;
    }

    public static SuiteOptions parse(String... args) {
        Map<String, String> given = new LinkedHashMap<>();
        boolean quick = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--quick")) {
                quick = true;
                continue;
            }
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "'");
            }
            String name = arg.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("--" + name + " needs a value");
                }
                value = args[++i];
            }
            if (spec(name) == null) {
                throw new IllegalArgumentException("unknown option --" + name + " (see --help)");
            }
            given.put(name, value);
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (String[] option : SPEC) {
            values.put(option[0], option[1]);
        }
        if (quick) {
            values.putAll(QUICK);
        }
        values.putAll(given);
        SuiteOptions options = new SuiteOptions(values, quick);
        for (String phase : options.phases()) {
            if (!PHASES.contains(phase)) {
                throw new IllegalArgumentException("unknown phase '" + phase + "'; the phases are " + String.join(",", PHASES));
            }
        }
        double fraction = options.decimal("disconnect-fraction");
        if (fraction < 0 || fraction > 1) {
            throw new IllegalArgumentException("--disconnect-fraction is between 0 and 1");
        }
        return options;
    }

    private static String[] spec(String name) {
        for (String[] option : SPEC) {
            if (option[0].equals(name)) {
                return option;
            }
        }
        return null;
    }

    public static String usage() {
        StringBuilder s = new StringBuilder("options (defaults of the full run; --quick: a run of a few minutes):\n");
        s.append(String.format("  %-24s %s%n", "--quick", "smaller sizes: " + new java.util.TreeMap<>(QUICK)));
        for (String[] option : SPEC) {
            s.append(String.format("  %-24s %s%s%n", "--" + option[0], option[2], option[1].isEmpty() ? "" : " [" + option[1] + "]"));
        }
        return s.toString();
    }

    public boolean quick() {
        return quick;
    }

    public String text(String name) {
        String value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no option --" + name);
        }
        return value;
    }

    public int integer(String name) {
        try {
            return Integer.parseInt(text(name).strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " takes a whole number, not '" + text(name) + "'");
        }
    }

    public double decimal(String name) {
        try {
            return Double.parseDouble(text(name).strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " takes a number, not '" + text(name) + "'");
        }
    }

    public Path path(String name) {
        return Path.of(text(name));
    }

    public List<String> phases() {
        List<String> phases = new ArrayList<>();
        for (String phase : text("phases").split(",")) {
            if (!phase.isBlank()) {
                phases.add(phase.strip());
            }
        }
        return phases;
    }

    /** Every option's value, for the report. */
    public Map<String, String> values() {
        return values;
    }
}
