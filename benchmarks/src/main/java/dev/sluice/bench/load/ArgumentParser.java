package dev.sluice.bench.load;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small GNU-style command-line parser: {@code --name value}, {@code --name=value}, flags, and
 * options taking a fixed number of values ({@code --compare a.json b.json}). The option table
 * also renders {@code --help}, so every option is documented where it is declared.
 */
final class ArgumentParser {

    /**
     * One option. {@code arity} is how many values follow it (0 for a flag); {@code defaultValue}
     * is used when the option is absent (null: no default) and shown in the help.
     */
    record Option(String name, String valueName, int arity, String defaultValue, String help) {
    }

    private final Map<String, Option> options = new LinkedHashMap<>();

    ArgumentParser add(String name, String valueName, String defaultValue, String help) {
        return add(new Option(name, valueName, valueName == null ? 0 : 1, defaultValue, help));
    }

    ArgumentParser add(Option option) {
        if (options.putIfAbsent(option.name(), option) != null) {
            throw new IllegalArgumentException("duplicate option " + option.name());
        }
        return this;
    }

    Arguments parse(String[] args) throws UsageException {
        Map<String, List<String>> given = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new UsageException("unexpected argument '" + arg + "' (options start with --; see --help)");
            }
            int eq = arg.indexOf('=');
            String name = eq < 0 ? arg : arg.substring(0, eq);
            Option option = options.get(name);
            if (option == null) {
                throw new UsageException("unknown option " + name + " (see --help)");
            }
            if (given.containsKey(name)) {
                throw new UsageException(name + " is given twice");
            }
            List<String> values = new ArrayList<>();
            if (eq >= 0) {
                if (option.arity() != 1) {
                    throw new UsageException(name + " does not take the form " + name + "=VALUE");
                }
                values.add(arg.substring(eq + 1));
            } else {
                for (int k = 0; k < option.arity(); k++) {
                    if (i + 1 >= args.length) {
                        throw new UsageException(name + " needs " + option.arity() + " value(s): " + option.valueName());
                    }
                    values.add(args[++i]);
                }
            }
            given.put(name, values);
        }
        return new Arguments(options, given);
    }

    /** The help text: one entry per option, in declaration order, with its default. */
    String help() {
        StringBuilder out = new StringBuilder();
        for (Option option : options.values()) {
            String head = option.valueName() == null ? option.name() : option.name() + " " + option.valueName();
            out.append("  ").append(head).append('\n');
            out.append("      ").append(option.help().replace("\n", "\n      "));
            if (option.defaultValue() != null) {
                out.append(" (default: ").append(option.defaultValue()).append(')');
            }
            out.append('\n');
        }
        return out.toString();
    }

    /** What a command line said, with typed accessors whose errors name the option. */
    static final class Arguments {

        private final Map<String, Option> options;
        private final Map<String, List<String>> given;

        private Arguments(Map<String, Option> options, Map<String, List<String>> given) {
            this.options = options;
            this.given = given;
        }

        /** The options the command line gave, in no particular order. */
        Set<String> given() {
            return given.keySet();
        }

        boolean has(String name) {
            return given.containsKey(option(name).name());
        }

        /** The option's value, else its default, else null. */
        String string(String name) {
            List<String> values = given.get(option(name).name());
            return values != null ? values.getFirst() : options.get(name).defaultValue();
        }

        List<String> values(String name) {
            return given.getOrDefault(option(name).name(), List.of());
        }

        int intValue(String name, int min) throws UsageException {
            String text = string(name);
            try {
                int value = Integer.parseInt(text.strip());
                if (value < min) {
                    throw new UsageException(name + " must be at least " + min + ", got " + value);
                }
                return value;
            } catch (NumberFormatException e) {
                throw new UsageException(name + " expects an integer, got '" + text + "'");
            }
        }

        double doubleValue(String name, double min) throws UsageException {
            String text = string(name);
            double value = parseDouble(name, text);
            if (!(value >= min)) {
                throw new UsageException(name + " must be at least " + min + ", got " + text);
            }
            return value;
        }

        /** A comma-separated list of positive integers, e.g. {@code 1,8,32}. */
        List<Integer> positiveInts(String name) throws UsageException {
            List<Integer> result = new ArrayList<>();
            for (String part : string(name).split(",")) {
                try {
                    int value = Integer.parseInt(part.strip());
                    if (value < 1) {
                        throw new UsageException(name + " values must be at least 1, got " + value);
                    }
                    result.add(value);
                } catch (NumberFormatException e) {
                    throw new UsageException(name + " expects comma-separated integers, got '" + part + "'");
                }
            }
            return List.copyOf(result);
        }

        /** A comma-separated list of positive numbers where {@code inf} means infinity. */
        List<Double> positiveRates(String name) throws UsageException {
            List<Double> result = new ArrayList<>();
            for (String part : string(name).split(",")) {
                String text = part.strip();
                double value = text.equalsIgnoreCase("inf") ? Double.POSITIVE_INFINITY : parseDouble(name, text);
                if (!(value > 0)) {
                    throw new UsageException(name + " values must be positive, got '" + text + "'");
                }
                result.add(value);
            }
            return List.copyOf(result);
        }

        private static double parseDouble(String name, String text) throws UsageException {
            try {
                double value = Double.parseDouble(text.strip());
                if (Double.isNaN(value) || Double.isInfinite(value)) {
                    throw new NumberFormatException();
                }
                return value;
            } catch (NumberFormatException e) {
                throw new UsageException(name + " expects a number, got '" + text + "'");
            }
        }

        private Option option(String name) {
            Option option = options.get(name);
            if (option == null) {
                throw new IllegalArgumentException("undeclared option " + name);
            }
            return option;
        }
    }
}
