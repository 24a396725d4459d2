package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code oneOf} requires that exactly one branch matches, which a grammar cannot check. The
 * grammar generates from any branch, so that is only correct when no value can match two
 * branches. This proves it for the common shapes: branches of different types, different
 * constants or enums, or objects told apart by a required key that the other branch forbids or
 * whose values cannot overlap (a discriminator). Anything else is refused, naming {@code oneOf}.
 */
final class Disjoint {

    private static final int MAX_DEPTH = 8;

    private Disjoint() {
    }

    static void check(SchemaCompiler c, List<JsonNode> branches, String path) {
        List<JsonNode> flat = new ArrayList<>();
        for (int i = 0; i < branches.size(); i++) {
            flat.add(c.merger.flatten(branches.get(i), path + "/oneOf/" + i));
        }
        for (int i = 0; i < flat.size(); i++) {
            for (int j = i + 1; j < flat.size(); j++) {
                if (!disjoint(c, flat.get(i), flat.get(j), path, 0)) {
                    throw new UnsupportedSchemaException("oneOf", path, "'oneOf' at '" + SchemaCompiler.where(path)
                            + "': branches " + i + " and " + j + " may both match one value, and a grammar cannot make"
                            + " sure only one does. Use 'anyOf', or tell the branches apart by type, const or a required"
                            + " property the other branch forbids.");
                }
            }
        }
    }

    private static boolean disjoint(SchemaCompiler c, JsonNode a, JsonNode b, String path, int depth) {
        if (depth > MAX_DEPTH || a.has("anyOf") || a.has("oneOf") || b.has("anyOf") || b.has("oneOf")) {
            return false;
        }
        List<JsonNode> va = values(a);
        List<JsonNode> vb = values(b);
        if (va != null && vb != null) {
            return va.stream().noneMatch(x -> vb.stream().anyMatch(y -> SchemaCompiler.sameValue(x, y)));
        }
        Set<String> ta = types(a, va, path);
        Set<String> tb = types(b, vb, path);
        if (ta != null && tb != null && ta.stream().noneMatch(t -> overlaps(t, tb))) {
            return true;
        }
        if (va != null || vb != null) {
            return false;
        }
        if (ta != null && tb != null && ta.equals(Set.of("object")) && tb.equals(Set.of("object"))) {
            return separatedByKey(c, a, b, path, depth) || separatedByKey(c, b, a, path, depth);
        }
        return false;
    }

    /** A key {@code a} requires that {@code b} forbids, or that both require with disjoint values. */
    private static boolean separatedByKey(SchemaCompiler c, JsonNode a, JsonNode b, String path, int depth) {
        for (JsonNode r : a.path("required")) {
            String key = r.asText();
            JsonNode inB = b.path("properties").get(key);
            JsonNode addB = b.get("additionalProperties");
            if (inB == null && addB != null && addB.isBoolean() && !addB.booleanValue()
                    || inB != null && inB.isBoolean() && !inB.booleanValue()) {
                return true;
            }
            JsonNode inA = a.path("properties").get(key);
            boolean bRequires = false;
            for (JsonNode rb : b.path("required")) {
                bRequires |= rb.asText().equals(key);
            }
            if (inA != null && inB != null && bRequires
                    && disjoint(c, c.merger.flatten(inA, path), c.merger.flatten(inB, path), path, depth + 1)) {
                return true;
            }
        }
        return false;
    }

    private static List<JsonNode> values(JsonNode s) {
        if (s.has("const")) {
            return List.of(s.get("const"));
        }
        if (s.has("enum") && s.get("enum").isArray()) {
            List<JsonNode> out = new ArrayList<>();
            s.get("enum").forEach(out::add);
            return out;
        }
        return null;
    }

    /** The types a branch's values can have, or null for any. */
    private static Set<String> types(JsonNode s, List<JsonNode> values, String path) {
        if (s.has("type")) {
            return SchemaCompiler.typeNames(s.get("type"), path);
        }
        if (values != null) {
            Set<String> out = new java.util.HashSet<>();
            for (JsonNode v : values) {
                for (String t : Keywords.TYPES) {
                    if (EnumRules.isOfType(v, t)) {
                        out.add(t);
                    }
                }
            }
            return out;
        }
        return null;
    }

    private static boolean overlaps(String t, Set<String> others) {
        if (others.contains(t)) {
            return true;
        }
        return t.equals("integer") && others.contains("number") || t.equals("number") && others.contains("integer");
    }
}
