package dev.sluice.engine.chat;

import com.hubspot.jinjava.el.ext.NamedParameter;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.objects.collections.PyList;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ELResolver;
import jinjava.javax.el.MethodNotFoundException;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The Python methods chat templates call on strings and dicts ({@code content.strip()},
 * {@code message.get('tool_calls')}, …), and the sandbox around them.
 *
 * <p>Jinjava would otherwise call any public Java method on a value: {@code 'x'.repeat(2147483647)}
 * from a template would take the server down. Here strings, dicts and lists answer only the Python
 * methods below (as Hugging Face's immutable sandbox does, nothing that mutates); any other method
 * on them is an error. Jinjava's own objects (loop, filters, tests, macros) keep their behaviour.
 * Strings also get Python indexing ({@code s[0]}, {@code s[-1]}) and no Java bean properties, and
 * strings and lists their reversal {@code [::-1]}.
 */
final class PythonMethods extends ELResolver {

    /** The subscript {@link JinjaTemplate} writes for Python's {@code [::-1]}. */
    static final String REVERSED = "::-1";

    private static final Pattern INDEX = Pattern.compile("-?\\d{1,9}");

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (LoopNeighbours.handles(base, property)) {
            context.setPropertyResolved(true);
            return LoopNeighbours.neighbour((com.hubspot.jinjava.util.ForLoop) base, property.toString());
        }
        if (REVERSED.equals(property) && (base instanceof List || base instanceof String || base instanceof SafeString)) {
            context.setPropertyResolved(true);
            if (base instanceof List<?> list) {
                List<Object> reversed = new ArrayList<>(list);
                Collections.reverse(reversed);
                return new PyList(reversed);
            }
            return new StringBuilder(base.toString()).reverse().toString();
        }
        if (!(base instanceof String || base instanceof SafeString)) {
            return null;
        }
        context.setPropertyResolved(true);
        // Jinjava passes the index of s[1] as the string "1".
        String s = base.toString();
        String name = String.valueOf(property);
        if (!INDEX.matcher(name).matches()) {
            return null; // a Python str has no attributes, only methods
        }
        long index = Long.parseLong(name);
        long i = index < 0 ? s.length() + index : index;
        return i >= 0 && i < s.length() ? String.valueOf(s.charAt((int) i)) : null;
    }

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String || base instanceof SafeString || base instanceof Map || base instanceof List)) {
            return null; // Jinjava's own objects: let its resolvers handle them
        }
        String name = String.valueOf(method);
        Object[] args = params == null ? new Object[0] : params;
        Object result = switch (base) {
            case Map<?, ?> map -> dictMethod(map, name, args);
            case List<?> _ -> throw unknown("list", name);
            default -> stringMethod(base.toString(), name, args);
        };
        context.setPropertyResolved(true);
        return result;
    }

    private static Object stringMethod(String s, String name, Object[] args) {
        return switch (name) {
            case "strip" -> strip(s, chars(args), true, true);
            case "lstrip" -> strip(s, chars(args), true, false);
            case "rstrip" -> strip(s, chars(args), false, true);
            case "split" -> split(s, args.length > 0 ? args[0] : null, args.length > 1 ? toInt(args[1]) : -1);
            case "startswith" -> affix(s, arg(args, 0), true);
            case "endswith" -> affix(s, arg(args, 0), false);
            case "replace" -> replace(s, str(arg(args, 0)), str(arg(args, 1)), args.length > 2 ? toInt(args[2]) : -1);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "find" -> s.indexOf(str(arg(args, 0)));
            case "count" -> count(s, str(arg(args, 0)));
            case "join" -> join(s, arg(args, 0));
            case "format" -> format(s, args);
            default -> throw unknown("str", name);
        };
    }

    private static Object dictMethod(Map<?, ?> map, String name, Object[] args) {
        return switch (name) {
            case "get" -> map.containsKey(arg(args, 0)) ? map.get(args[0]) : args.length > 1 ? args[1] : null;
            case "items" -> {
                List<Object> items = new ArrayList<>(map.size());
                map.forEach((k, v) -> items.add(pair(k, v)));
                yield items;
            }
            case "keys" -> new ArrayList<>(map.keySet());
            case "values" -> new ArrayList<>(map.values());
            default -> throw unknown("dict", name);
        };
    }

    /** A (key, value) tuple that Jinjava's {@code for k, v in …} can unpack. */
    static PyList pair(Object key, Object value) {
        List<Object> pair = new ArrayList<>(2);
        pair.add(key);
        pair.add(value);
        return new PyList(pair);
    }

    private static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end && strippable(s.charAt(start), chars)) {
            start++;
        }
        while (right && end > start && strippable(s.charAt(end - 1), chars)) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean strippable(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) || Character.isSpaceChar(c) : chars.indexOf(c) >= 0;
    }

    private static String chars(Object[] args) {
        return args.length == 0 || args[0] == null ? null : str(args[0]);
    }

    private static List<String> split(String s, Object separator, int maxSplit) {
        List<String> parts = new ArrayList<>();
        int limit = maxSplit < 0 ? Integer.MAX_VALUE : maxSplit;
        if (separator == null) {
            // Runs of whitespace separate; no empty strings at either end.
            String rest = strip(s, null, true, false);
            while (!rest.isEmpty()) {
                int end = 0;
                while (end < rest.length() && !strippable(rest.charAt(end), null)) {
                    end++;
                }
                if (parts.size() == limit || end == rest.length()) {
                    parts.add(parts.size() == limit ? rest : rest.substring(0, end));
                    break;
                }
                parts.add(rest.substring(0, end));
                rest = strip(rest.substring(end), null, true, false);
            }
            return parts;
        }
        String sep = str(separator);
        if (sep.isEmpty()) {
            throw new ELException("split(): empty separator");
        }
        int from = 0;
        int at;
        while (parts.size() < limit && (at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static boolean affix(String s, Object affixes, boolean prefix) {
        Collection<?> options = affixes instanceof Collection<?> c ? c : List.of(str(affixes));
        for (Object option : options) {
            if (prefix ? s.startsWith(str(option)) : s.endsWith(str(option))) {
                return true;
            }
        }
        return false;
    }

    private static String replace(String s, String old, String replacement, int count) {
        if (count < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder out = new StringBuilder();
        int from = 0;
        for (int n = 0; n < count; n++) {
            int at = old.isEmpty() ? (from <= s.length() ? from : -1) : s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            out.append(s, from, at).append(replacement);
            if (old.isEmpty()) {
                if (at < s.length()) {
                    out.append(s.charAt(at));
                }
                from = at + 1;
            } else {
                from = at + old.length();
            }
        }
        return from <= s.length() ? out.append(s, from, s.length()).toString() : out.toString();
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean inWord = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            out.append(inWord ? Character.toLowerCase(c) : Character.toTitleCase(c));
            inWord = Character.isLetter(c);
        }
        return out.toString();
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.length() + 1;
        }
        int n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    private static String join(String separator, Object items) {
        Iterable<?> iterable = items instanceof Iterable<?> it ? it : List.of(str(items));
        StringBuilder out = new StringBuilder();
        Iterator<?> iterator = iterable.iterator();
        while (iterator.hasNext()) {
            out.append(str(iterator.next()));
            if (iterator.hasNext()) {
                out.append(separator);
            }
        }
        return out.toString();
    }

    /** {@code str.format}: {@code {}}, {@code {0}} and {@code {name}} fields, {@code {{}} and {@code }}} escapes. */
    private static String format(String s, Object[] args) {
        List<Object> positional = new ArrayList<>();
        Map<String, Object> named = new HashMap<>();
        for (Object arg : args) {
            if (arg instanceof NamedParameter p) {
                named.put(p.getName(), p.getValue());
            } else {
                positional.add(arg);
            }
        }
        StringBuilder out = new StringBuilder();
        int next = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c == '{' || c == '}') && i + 1 < s.length() && s.charAt(i + 1) == c) {
                out.append(c);
                i++;
            } else if (c == '{') {
                int close = s.indexOf('}', i);
                if (close < 0) {
                    throw new ELException("format(): single '{' in " + s);
                }
                String field = s.substring(i + 1, close);
                Object value;
                if (field.isEmpty()) {
                    value = positional.get(next++);
                } else if (field.chars().allMatch(Character::isDigit)) {
                    value = positional.get(Integer.parseInt(field));
                } else if (named.containsKey(field)) {
                    value = named.get(field);
                } else {
                    throw new ELException("format(): unsupported field {" + field + "}");
                }
                out.append(str(value));
                i = close;
            } else if (c == '}') {
                throw new ELException("format(): single '}' in " + s);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static Object arg(Object[] args, int i) {
        if (i >= args.length) {
            throw new ELException("missing argument " + (i + 1));
        }
        return args[i];
    }

    private static String str(Object value) {
        return PythonJson.str(value);
    }

    private static int toInt(Object value) {
        if (value instanceof Number n) {
            return n.intValue();
        }
        throw new ELException("expected an integer, got " + str(value));
    }

    private static MethodNotFoundException unknown(String type, String name) {
        return new MethodNotFoundException("'" + type + "' object has no attribute '" + name + "'");
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // Assignments go to Jinjava's resolvers (namespace attributes); strings are immutable.
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        if (base instanceof String || base instanceof SafeString) {
            context.setPropertyResolved(true);
            return true;
        }
        return false;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return Collections.emptyIterator();
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
