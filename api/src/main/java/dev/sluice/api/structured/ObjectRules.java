package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Objects. Up to {@link #ANY_ORDER_MAX_KEYS} declared properties come in any order, each at most
 * once, the object closing only once every required one is there; objects with more come in the
 * order the schema declares them (OpenAI's strict mode does the same), each optional one
 * skippable. Required keys the schema does not declare count as declared, after its own. Other keys
 * are generated only where {@code additionalProperties} is {@code true} or a schema, after the
 * declared ones, with names that are none of the declared ones (and written without escapes, so
 * no escape can spell one). Without {@code additionalProperties} no other key is generated:
 * the default allows them, but an object without them is valid too. {@code minProperties} and
 * {@code maxProperties} are accepted where the required and declared keys satisfy them.
 */
final class ObjectRules {

    /** Objects with at most this many declared keys take them in any order (2^n grammar rules); larger ones in declared order. */
    static final int ANY_ORDER_MAX_KEYS = 6;

    private ObjectRules() {
    }

    static String object(SchemaCompiler c, JsonNode s, String path) {
        Gbnf g = c.g;
        String ws = JsonRules.ws(g);
        JsonNode props = s.path("properties");
        if (!props.isMissingNode() && !props.isObject()) {
            throw new InvalidSchemaException(path, "'properties' at '" + SchemaCompiler.where(path) + "' must be an object.");
        }
        Set<String> required = new LinkedHashSet<>();
        JsonNode req = s.get("required");
        if (req != null) {
            if (!req.isArray()) {
                throw new InvalidSchemaException(path, "'required' at '" + SchemaCompiler.where(path) + "' must be an array of strings.");
            }
            req.forEach(r -> required.add(r.asText()));
        }
        JsonNode additional = s.get("additionalProperties");
        if (additional != null && !additional.isBoolean() && !additional.isObject()) {
            throw new InvalidSchemaException(path, "'additionalProperties' at '" + SchemaCompiler.where(path)
                    + "' must be a boolean or a schema.");
        }
        boolean additionalFalse = additional != null && additional.isBoolean() && !additional.booleanValue();
        if (props.isMissingNode() && required.isEmpty() && additional == null && !s.has("maxProperties")
                && !s.has("minProperties")) {
            return JsonRules.object(g); // any object
        }

        // key -> schema path, in generation order; false-valued optional keys are left out
        Map<String, JsonNode> keys = new LinkedHashMap<>();
        Map<String, String> paths = new LinkedHashMap<>();
        props.fields().forEachRemaining(e -> {
            paths.put(e.getKey(), path + "/properties/" + Keywords.token(e.getKey()));
            keys.put(e.getKey(), e.getValue());
        });
        for (String key : required) {
            if (!keys.containsKey(key)) {
                if (additionalFalse) {
                    throw new InvalidSchemaException(path, "Property '" + key + "' at '" + SchemaCompiler.where(path)
                            + "' is required but additionalProperties is false and it is not in properties.");
                }
                keys.put(key, additional == null ? JsonRules.TRUE : additional);
                paths.put(key, path + "/additionalProperties");
            }
        }
        keys.entrySet().removeIf(e -> {
            boolean never = e.getValue().isBoolean() && !e.getValue().booleanValue();
            if (never && required.contains(e.getKey())) {
                throw new InvalidSchemaException(path, "Property '" + e.getKey() + "' at '" + SchemaCompiler.where(path)
                        + "' is required but its schema is false.");
            }
            return never;
        });
        boolean extras = additional != null && !additionalFalse;
        JsonNode maxProps = s.get("maxProperties");
        if (maxProps != null) {
            if (maxProps.asLong() < keys.size()) {
                throw new UnsupportedSchemaException("maxProperties", path, "'maxProperties' at '" + SchemaCompiler.where(path)
                        + "' is below the number of declared properties, which cannot be enforced.");
            }
            extras = false; // the declared keys fit; generate no others
        }
        JsonNode minProps = s.get("minProperties");
        if (minProps != null && minProps.asLong() > required.size()) {
            throw new UnsupportedSchemaException("minProperties", path, "'minProperties' at '" + SchemaCompiler.where(path)
                    + "' exceeds the number of required properties, which cannot be enforced.");
        }

        List<String> names = new ArrayList<>(keys.keySet());
        List<String> members = new ArrayList<>();
        for (String name : names) {
            String value = c.compile(keys.get(name), paths.get(name));
            members.add(g.rule("kv", Gbnf.literal("\"" + RegexGrammar.jsonEscape(name) + "\"") + " " + ws + " \":\" "
                    + ws + " " + value + " " + ws));
        }
        String[] after = new String[2]; // what follows the last declared key: [first, not first]
        if (extras) {
            String key = otherKey(g, names);
            String value = c.compile(additional, path + "/additionalProperties");
            String member = g.rule("kv", key + " " + ws + " \":\" " + ws + " " + value + " " + ws);
            String more = g.rule("more", "\",\" " + ws + " " + member);
            after[0] = "( " + member + " " + more + "* )?";
            after[1] = more + "*";
        } else {
            after[0] = "";
            after[1] = "";
        }
        if (names.size() <= ANY_ORDER_MAX_KEYS) {
            return g.rule("obj", "\"{\" " + ws + " " + anyOrder(g, ws, names, members, required, after) + " \"}\"");
        }
        // chain[i][first?]: keys i.. when nothing / something was written before
        String nextFirst = after[0];
        String nextLater = after[1];
        for (int i = names.size() - 1; i >= 0; i--) {
            boolean optional = !required.contains(names.get(i));
            String first = members.get(i) + " " + nextLater;
            String later = "\",\" " + ws + " " + members.get(i) + " " + nextLater;
            String curFirst = optional ? first + " | " + orEmpty(nextFirst) : first;
            String curLater = optional ? later + " | " + orEmpty(nextLater) : later;
            nextFirst = g.rule("props", curFirst.strip());
            nextLater = g.rule("props", curLater.strip());
        }
        return g.rule("obj", "\"{\" " + ws + " " + nextFirst + " \"}\"");
    }

    /**
     * The declared keys in any order, each at most once, the object closable once every required
     * key is written: one rule per set of keys written so far (at most 2^{@link #ANY_ORDER_MAX_KEYS}),
     * each offering the keys not yet written. Other keys (additionalProperties) follow the declared ones.
     */
    private static String anyOrder(Gbnf g, String ws, List<String> names, List<String> members, Set<String> required,
                                   String[] after) {
        int n = names.size();
        int requiredMask = 0;
        for (int i = 0; i < n; i++) {
            if (required.contains(names.get(i))) {
                requiredMask |= 1 << i;
            }
        }
        String[] rules = new String[1 << n];
        return written(g, ws, members, requiredMask, 0, after, rules);
    }

    /** What may follow once the keys in {@code mask} are written (none: the object's first member). */
    private static String written(Gbnf g, String ws, List<String> members, int requiredMask, int mask, String[] after,
                                  String[] rules) {
        if (rules[mask] != null) {
            return rules[mask];
        }
        int n = members.size();
        List<String> options = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if ((mask & (1 << i)) == 0) {
                String next = written(g, ws, members, requiredMask, mask | (1 << i), after, rules);
                options.add((mask == 0 ? "" : "\",\" " + ws + " ") + members.get(i) + " " + next);
            }
        }
        if ((mask & requiredMask) == requiredMask) {
            options.add(orEmpty(mask == 0 ? after[0] : after[1]));
        }
        rules[mask] = options.isEmpty() ? "\"\"" : g.rule("props", String.join(" | ", options.stream().map(String::strip).toList()));
        return rules[mask];
    }

    private static String orEmpty(String expr) {
        return expr.isBlank() ? "\"\"" : expr;
    }

    /**
     * A JSON string (with quotes) that is none of {@code names}, written with unescaped characters
     * only: a trie of the names, where each node may end (unless a name ends there), continue with a
     * child's character, or leave the trie with any other character.
     */
    private static String otherKey(Gbnf g, List<String> names) {
        String plain = JsonRules.PLAIN_CHAR;
        if (names.isEmpty()) {
            return g.rule("key", "\"\\\"\" " + plain + "* \"\\\"\"");
        }
        Trie trie = new Trie();
        for (String name : names) {
            trie.add(name);
        }
        return g.rule("key", "\"\\\"\" " + trie.rule(g, plain));
    }

    private static final class Trie {
        final TreeMap<Integer, Trie> children = new TreeMap<>();
        boolean terminal;

        void add(String name) {
            Trie node = this;
            for (int cp : name.codePoints().toArray()) {
                node = node.children.computeIfAbsent(cp, x -> new Trie());
            }
            node.terminal = true;
        }

        /** Key content from here on, closing quote included, that does not complete a name. */
        String rule(Gbnf g, String plain) {
            List<String> options = new ArrayList<>();
            if (!terminal) {
                options.add("\"\\\"\"");
            }
            int[] others = {0x20, 0xD7FF, 0xE000, Regex.MAX_CODE_POINT};
            int[] taken = CharSets.union(List.of(new int[]{'"', '"', '\\', '\\'},
                    children.keySet().stream().flatMapToInt(cp -> java.util.stream.IntStream.of(cp, cp)).toArray()));
            int[] rest = CharSets.minus(others, taken);
            options.add(Gbnf.charClass(rest, false) + " " + plain + "* \"\\\"\"");
            for (Map.Entry<Integer, Trie> child : children.entrySet()) {
                String c = Character.toString(child.getKey());
                String lit = c.equals("\"") || c.equals("\\") || child.getKey() < 0x20
                        ? Gbnf.literal(RegexGrammar.jsonEscape(c)) : Gbnf.literal(c);
                options.add(lit + " " + child.getValue().rule(g, plain));
            }
            return g.rule("key", String.join(" | ", options));
        }
    }
}
