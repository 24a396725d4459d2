package dev.sluice.engine.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.objects.SafeString;
import jinjava.javax.el.ELException;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps} and {@code str()} as chat templates see them. Hugging Face registers
 * {@code tojson} as {@code json.dumps(x, ensure_ascii=False, indent=…, separators=…, sort_keys=…)};
 * tool schemas and tool-call arguments are rendered with it, and the model was trained on exactly
 * that spelling ({@code {"a": 1}}, not Jackson's {@code {"a":1}}).
 */
final class PythonJson {

    private PythonJson() {
    }

    /** The {@code tojson} filter. */
    static final class ToJsonFilter implements Filter {

        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indentArg = kwargs.getOrDefault("indent", args.length > 0 ? args[0] : null);
            String indent = switch (indentArg) {
                case null -> null;
                case Number n -> " ".repeat(Math.clamp(n.intValue(), 0, 64));
                default -> indentArg.toString();
            };
            String itemSeparator = indent == null ? ", " : ",";
            String keySeparator = ": ";
            if (kwargs.get("separators") instanceof List<?> separators && separators.size() == 2) {
                itemSeparator = String.valueOf(separators.get(0));
                keySeparator = String.valueOf(separators.get(1));
            }
            boolean sortKeys = Boolean.TRUE.equals(kwargs.get("sort_keys"));
            boolean ensureAscii = Boolean.TRUE.equals(kwargs.get("ensure_ascii"));
            StringBuilder out = new StringBuilder();
            new Writer(out, indent, itemSeparator, keySeparator, sortKeys, ensureAscii).write(var, 0);
            return out.toString();
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }
    }

    /** JSON text of a template value: strings, numbers, booleans, None, lists and dicts. */
    static String dumps(Object value) {
        StringBuilder out = new StringBuilder();
        new Writer(out, null, ", ", ": ", false, false).write(value, 0);
        return out.toString();
    }

    /** Python's {@code str()} of a template value. */
    static String str(Object value) {
        return switch (value) {
            case null -> "None";
            case String s -> s;
            case SafeString s -> s.toString();
            case Boolean b -> b ? "True" : "False";
            case Double d -> pythonFloat(d);
            case Float f -> pythonFloat(f.doubleValue());
            case Map<?, ?> _, Collection<?> _ -> repr(value);
            default -> value.toString();
        };
    }

    /** Python's {@code repr()} of a template value: {@code {'a': [1, True, None]}}. */
    static String repr(Object value) {
        StringBuilder out = new StringBuilder();
        repr(value, out);
        return out.toString();
    }

    private static void repr(Object value, StringBuilder out) {
        switch (value) {
            case CharSequence s -> reprString(s.toString(), out);
            case SafeString s -> reprString(s.toString(), out);
            case Map<?, ?> map -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    out.append(first ? "" : ", ");
                    first = false;
                    repr(e.getKey(), out);
                    out.append(": ");
                    repr(e.getValue(), out);
                }
                out.append('}');
            }
            case Collection<?> items -> {
                out.append('[');
                boolean first = true;
                for (Object item : items) {
                    out.append(first ? "" : ", ");
                    first = false;
                    repr(item, out);
                }
                out.append(']');
            }
            case null, default -> out.append(str(value));
        }
    }

    /** Single quotes unless the text has a single quote and no double one, as Python chooses. */
    private static void reprString(String s, StringBuilder out) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        out.append(quote);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c == quote) {
                        out.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        out.append(String.format("\\x%02x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append(quote);
    }

    /** Jinja2's {@code string} filter: Python's {@code str()}, so a dict prints as {@code {'a': 1}}. */
    static final class StringFilter implements Filter {
        @Override
        public String getName() {
            return "string";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return str(var);
        }
    }

    /**
     * Jinja2's {@code trim}. Jinjava cannot tell a missing key from None; templates trim missing
     * fields ({@code param.description|trim} in Hermes 2 Pro's), which Jinja2 renders as "".
     */
    static final class TrimFilter implements Filter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return var == null ? "" : str(var).strip();
        }
    }

    private record Writer(StringBuilder out, String indent, String itemSeparator, String keySeparator,
                          boolean sortKeys, boolean ensureAscii) {

        void write(Object value, int depth) {
            switch (value) {
                case null -> out.append("null");
                case Boolean b -> out.append(b);
                case Double d -> out.append(pythonFloat(d));
                case Float f -> out.append(pythonFloat(f.doubleValue()));
                case BigDecimal d -> out.append(d.toPlainString());
                case Number n when n instanceof Integer || n instanceof Long || n instanceof Short
                        || n instanceof Byte || n instanceof BigInteger -> out.append(n);
                case CharSequence s -> string(s.toString());
                case SafeString s -> string(s.toString());
                case Map<?, ?> map -> object(map, depth);
                case Collection<?> items -> array(items, depth);
                case Object[] items -> array(List.of(items), depth);
                default -> throw new ELException(
                        "Object of type " + value.getClass().getSimpleName() + " is not JSON serializable");
            }
        }

        private void object(Map<?, ?> map, int depth) {
            List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
            if (sortKeys) {
                entries.sort((a, b) -> key(a.getKey()).compareTo(key(b.getKey())));
            }
            out.append('{');
            for (int i = 0; i < entries.size(); i++) {
                separate(i, depth + 1);
                string(key(entries.get(i).getKey()));
                out.append(keySeparator);
                write(entries.get(i).getValue(), depth + 1);
            }
            close(entries.isEmpty(), depth, '}');
        }

        private void array(Collection<?> items, int depth) {
            out.append('[');
            int i = 0;
            for (Object item : items) {
                separate(i++, depth + 1);
                write(item, depth + 1);
            }
            close(items.isEmpty(), depth, ']');
        }

        private void separate(int index, int depth) {
            if (index > 0) {
                out.append(itemSeparator);
            }
            newline(depth);
        }

        private void close(boolean empty, int depth, char bracket) {
            if (!empty) {
                newline(depth);
            }
            out.append(bracket);
        }

        private void newline(int depth) {
            if (indent != null) {
                out.append('\n').append(indent.repeat(depth));
            }
        }

        /** JSON object keys are strings; Python converts None, booleans and numbers like this. */
        private static String key(Object key) {
            return switch (key) {
                case null -> "null";
                case Boolean b -> b.toString();
                default -> str(key);
            };
        }

        private void string(String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    case '\b' -> out.append("\\b");
                    case '\f' -> out.append("\\f");
                    default -> {
                        if (c < 0x20 || (ensureAscii && c > 0x7F)) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }
    }

    /** Python's {@code repr} of a float: shortest digits, {@code 1.0}, {@code 1e+16}, {@code 1e-05}, {@code NaN}. */
    private static String pythonFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        String sign = d < 0 || 1 / d < 0 ? "-" : "";
        // Double.toString gives the shortest digits that round-trip, as Python's repr does.
        BigDecimal digits = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        if (digits.signum() == 0) {
            return sign + "0.0";
        }
        int exponent = digits.precision() - digits.scale() - 1;
        if (exponent >= -4 && exponent < 16) {
            String plain = digits.toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String unscaled = digits.unscaledValue().toString();
        String mantissa = unscaled.length() == 1 ? unscaled : unscaled.charAt(0) + "." + unscaled.substring(1);
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }
}
