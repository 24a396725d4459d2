package dev.sluice.api;

import java.util.HashMap;
import java.util.Map;

/** {@code --flag value} / {@code --flag=value} command-line options, mapped to config keys. */
final class Cli {

    /** Asked for {@code --help}. */
    static final class HelpRequested extends RuntimeException {
        HelpRequested() {
            super("help");
        }
    }

    private Cli() {
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("-h") || arg.equals("--help")) {
                throw new HelpRequested();
            }
            if (!arg.startsWith("--")) {
                throw new ServerConfig.InvalidConfigException("unexpected argument '" + arg + "' (options look like --model PATH; see --help)");
            }
            String name = arg.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                value = args[++i];
            } else {
                throw new ServerConfig.InvalidConfigException("--" + name + " needs a value");
            }
            Option option = Option.byFlag(name);
            if (option == null) {
                throw new ServerConfig.InvalidConfigException("unknown option --" + name + " (see --help)");
            }
            out.put(option.key(), value);
        }
        return out;
    }

    static String usage() {
        StringBuilder s = new StringBuilder("""
                Usage: bin/server [--option VALUE]...

                Starts the Sluice OpenAI-compatible server. Every option can also be set with its environment
                variable or in application.yaml (key in brackets).

                """);
        for (Option o : Option.values()) {
            s.append(String.format("  --%-26s %s%n", o.flag() + " VALUE", o.description()));
            s.append(String.format("  %-28s default: %s   env: %s   [%s]%n", "",
                    o.defaultValue().isEmpty() ? "(empty)" : o.defaultValue(), o.environmentVariable(), o.key()));
        }
        return s.toString();
    }
}
