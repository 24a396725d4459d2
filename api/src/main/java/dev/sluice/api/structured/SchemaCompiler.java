package dev.sluice.api.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One JSON Schema compiled to GBNF. Each {@code $ref} target becomes one rule, so recursive
 * schemas give recursive rules; a cycle of references that never passes through an object or
 * array would be a left-recursive grammar and is refused. See {@link JsonSchemaGrammar}.
 */
final class SchemaCompiler {

    /** Nesting of schemas inside schemas (not through {@code $ref}), bounding the recursion here. */
    private static final int MAX_DEPTH = 64;
    private static final ObjectMapper JSON = new ObjectMapper();

    record Target(JsonNode schema, String pointer) {
    }

    final Gbnf g;
    final SchemaMerger merger = new SchemaMerger(this);
    private final JsonNode root;
    private final Map<String, String> refRules = new HashMap<>();
    /** References entered since the last character the grammar must consume: a repeat is left recursion. */
    private Set<String> leftOpen = new HashSet<>();
    private int depth;

    SchemaCompiler(JsonNode root, String startRule) {
        this.root = root;
        this.g = new Gbnf(startRule);
    }

    /** The grammar's rules; the start rule matches the schema's values (no white space around). */
    String compileRoot() {
        refRules.put("", g.start());
        leftOpen.add("");
        String expr = compile(root, "");
        g.define(g.start(), expr);
        return g.render();
    }

    String compile(JsonNode s, String path) {
        if (++depth > MAX_DEPTH) {
            throw new UnsupportedSchemaException("schema", path, "The schema nests deeper than " + MAX_DEPTH + " levels.");
        }
        try {
            return compileChecked(s, path);
        } finally {
            depth--;
        }
    }

    private String compileChecked(JsonNode s, String path) {
        if (s.isBoolean()) {
            if (s.booleanValue()) {
                return JsonRules.value(g);
            }
            throw new InvalidSchemaException(path, "The schema at '" + where(path) + "' is false: nothing satisfies it.");
        }
        if (!s.isObject()) {
            throw new InvalidSchemaException(path, "The schema at '" + where(path) + "' must be an object or a boolean.");
        }
        Keywords.checkSupported(s, path);
        if (!path.isEmpty() && s.path("$id").isTextual() && !s.get("$id").textValue().startsWith("#")) {
            // a nested $id moves the base that '#...' references resolve against
            throw new UnsupportedSchemaException("$id", path, "A nested '$id' at '" + path
                    + "' is not supported: references are resolved against the whole schema.");
        }
        if (s.has("$ref") && !hasSiblingConstraints(s)) {
            Target target = resolve(s.get("$ref"), path);
            return ref(target);
        }
        if (s.has("$ref") || s.has("allOf")) {
            return compile(merger.flatten(s, path), path);
        }
        if (s.has("anyOf") || s.has("oneOf")) {
            return alternatives(s, path);
        }
        if (s.has("enum") || s.has("const")) {
            return EnumRules.values(g, s, path);
        }
        Set<String> types = types(s, path);
        if (types.isEmpty()) {
            return JsonRules.value(g);
        }
        List<String> options = new ArrayList<>();
        for (String type : types) {
            options.add(typed(s, type, path));
        }
        return options.size() == 1 ? options.getFirst() : g.rule("alt", String.join(" | ", options));
    }

    private String typed(JsonNode s, String type, String path) {
        return switch (type) {
            case "null" -> JsonRules.nul(g);
            case "boolean" -> JsonRules.bool(g);
            case "integer" -> NumberRules.integer(g, s, path);
            case "number" -> NumberRules.number(g, s, path);
            case "string" -> StringRules.string(g, s, path);
            case "object" -> nested(() -> ObjectRules.object(this, s, path));
            case "array" -> nested(() -> ArrayRules.array(this, s, path));
            default -> throw new IllegalStateException(type);
        };
    }

    /** Compiles what follows an opening bracket: references in it are no longer in left position. */
    String nested(java.util.function.Supplier<String> body) {
        Set<String> saved = leftOpen;
        leftOpen = new HashSet<>();
        try {
            return body.get();
        } finally {
            leftOpen = saved;
        }
    }

    private String alternatives(JsonNode s, String path) {
        if (s.has("anyOf") && s.has("oneOf")) {
            throw new UnsupportedSchemaException("oneOf", path, "'anyOf' together with 'oneOf' at '" + where(path)
                    + "' is not supported.");
        }
        String keyword = s.has("anyOf") ? "anyOf" : "oneOf";
        JsonNode members = s.get(keyword);
        if (!members.isArray() || members.isEmpty()) {
            throw new InvalidSchemaException(path, "'" + keyword + "' at '" + where(path) + "' must be a non-empty array.");
        }
        ObjectNode rest = ((ObjectNode) s).deepCopy();
        rest.remove(keyword);
        boolean distribute = Keywords.constrains(rest);
        List<JsonNode> branches = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) {
            String at = path + "/" + keyword + "/" + i;
            branches.add(distribute ? merger.merge(merger.flatten(rest, path), merger.flatten(members.get(i), at), at)
                    : members.get(i));
        }
        if (keyword.equals("oneOf")) {
            Disjoint.check(this, branches, path);
        }
        List<String> options = new ArrayList<>();
        for (int i = 0; i < branches.size(); i++) {
            options.add(compile(branches.get(i), path + "/" + keyword + "/" + i));
        }
        return g.rule("alt", String.join(" | ", new LinkedHashSet<>(options)));
    }

    private static boolean hasSiblingConstraints(JsonNode s) {
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("$ref") && !Keywords.ANNOTATIONS.contains(k) && Keywords.isKnown(k)) {
                return true;
            }
        }
        return false;
    }

    private String ref(Target target) {
        if (leftOpen.contains(target.pointer())) {
            throw new InvalidSchemaException(target.pointer(), "The schema refers to '#" + target.pointer()
                    + "' from within itself without nesting it in an object or array, so no value could ever end.");
        }
        String name = refRules.get(target.pointer());
        if (name != null) {
            return name;
        }
        name = g.reserve("ref");
        refRules.put(target.pointer(), name);
        leftOpen.add(target.pointer());
        try {
            g.define(name, compile(target.schema(), target.pointer()));
        } finally {
            leftOpen.remove(target.pointer());
        }
        return name;
    }

    /** A local reference ({@code #}, {@code #/$defs/x}, any JSON pointer into this schema). */
    Target resolve(JsonNode ref, String path) {
        if (!ref.isTextual()) {
            throw new InvalidSchemaException(path, "'$ref' at '" + where(path) + "' must be a string.");
        }
        String text = ref.textValue();
        if (!text.startsWith("#")) {
            throw new UnsupportedSchemaException("$ref", path, "'$ref': '" + text + "' at '" + where(path)
                    + "' is not supported: only references within the schema ('#...') are.");
        }
        String pointer = URLDecoder.decode(text.substring(1).replace("+", "%2B"), StandardCharsets.UTF_8);
        if (!pointer.isEmpty() && !pointer.startsWith("/")) {
            throw new UnsupportedSchemaException("$ref", path, "'$ref': '" + text + "' at '" + where(path)
                    + "' is not supported: anchors are not, only JSON pointers ('#/$defs/name') are.");
        }
        JsonNode target = root.at(pointer);
        if (target.isMissingNode()) {
            throw new InvalidSchemaException(path, "'$ref': '" + text + "' at '" + where(path) + "' points to nothing in the schema.");
        }
        return new Target(target, pointer);
    }

    /** The types a schema allows: its {@code type}, or those its keywords imply; empty for any value. */
    static Set<String> types(JsonNode s, String path) {
        if (s.has("type")) {
            Set<String> types = typeNames(s.get("type"), path);
            if (types.contains("number")) {
                types.remove("integer");
            }
            return types;
        }
        Set<String> implied = new LinkedHashSet<>();
        s.fieldNames().forEachRemaining(k -> {
            if (Keywords.OBJECT.contains(k)) {
                implied.add("object");
            } else if (Keywords.ARRAY.contains(k)) {
                implied.add("array");
            } else if (Keywords.STRING.contains(k)) {
                implied.add("string");
            } else if (Keywords.NUMBER.contains(k)) {
                implied.add("number");
            }
        });
        return implied;
    }

    static Set<String> typeNames(JsonNode type, String path) {
        Set<String> out = new LinkedHashSet<>();
        if (type.isTextual()) {
            out.add(type.textValue());
        } else if (type.isArray() && !type.isEmpty()) {
            type.forEach(t -> out.add(t.asText()));
        } else {
            throw new InvalidSchemaException(path, "'type' at '" + where(path) + "' must be a string or a non-empty array of strings.");
        }
        for (String t : out) {
            if (!Keywords.TYPES.contains(t)) {
                throw new InvalidSchemaException(path, "'type' at '" + where(path) + "' has the unknown type '" + t
                        + "'; the types are " + String.join(", ", Keywords.TYPES.stream().sorted().toList()) + ".");
            }
        }
        return out;
    }

    /** Equal as JSON values: numbers by value ({@code 1} and {@code 1.0} are the same). */
    static boolean sameValue(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        return a.equals(b);
    }

    static String toJson(JsonNode value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String where(String path) {
        return path.isEmpty() ? "/" : path;
    }
}
