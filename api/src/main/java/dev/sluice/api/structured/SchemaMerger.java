package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code allOf}, and a {@code $ref} with sibling keywords, as one schema: the intersection of its
 * members where that is a schema again (types intersected, properties and required keys joined with
 * each member's {@code additionalProperties} applied to the others' keys, the tighter of two bounds,
 * enums intersected). Members that disagree on a keyword that cannot be intersected (two patterns,
 * two {@code items}) are refused, naming it.
 */
final class SchemaMerger {

    private static final int MAX_DEPTH = 32;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final SchemaCompiler compiler;

    SchemaMerger(SchemaCompiler compiler) {
        this.compiler = compiler;
    }

    /** The schema with its top-level {@code $ref} and {@code allOf} folded in. */
    ObjectNode flatten(JsonNode s, String path) {
        return flatten(s, path, 0);
    }

    private ObjectNode flatten(JsonNode s, String path, int depth) {
        if (depth > MAX_DEPTH) {
            throw new UnsupportedSchemaException("allOf", path, "'allOf' / '$ref' at '" + path
                    + "' nest too deeply, or refer to themselves without nesting.");
        }
        if (s.isBoolean()) {
            if (!s.booleanValue()) {
                throw new InvalidSchemaException(path, "The schema at '" + path + "' is false: nothing satisfies it.");
            }
            return NODES.objectNode();
        }
        if (!s.isObject()) {
            throw new InvalidSchemaException(path, "The schema at '" + path + "' must be an object or a boolean.");
        }
        Keywords.checkSupported(s, path);
        ObjectNode out = ((ObjectNode) s).deepCopy();
        out.remove("$ref");
        out.remove("allOf");
        if (s.has("$ref")) {
            SchemaCompiler.Target target = compiler.resolve(s.get("$ref"), path);
            out = merge(flatten(target.schema(), target.pointer(), depth + 1), out, path);
        }
        JsonNode all = s.get("allOf");
        if (all != null) {
            if (!all.isArray() || all.isEmpty()) {
                throw new InvalidSchemaException(path, "'allOf' at '" + path + "' must be a non-empty array.");
            }
            for (int i = 0; i < all.size(); i++) {
                out = merge(out, flatten(all.get(i), path + "/allOf/" + i, depth + 1), path);
            }
        }
        return out;
    }

    /** The intersection of two flattened schemas. */
    ObjectNode merge(ObjectNode a, ObjectNode b, String path) {
        ObjectNode out = a.deepCopy();
        for (Iterator<Map.Entry<String, JsonNode>> it = b.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String k = e.getKey();
            JsonNode vb = e.getValue();
            JsonNode va = out.get(k);
            if (k.equals("properties") || k.equals("additionalProperties")) {
                continue; // below
            }
            if (va == null) {
                out.set(k, vb);
                continue;
            }
            if (Keywords.ANNOTATIONS.contains(k) || !Keywords.isKnown(k) || va.equals(vb)) {
                continue;
            }
            switch (k) {
                case "type" -> out.set("type", intersectTypes(va, vb, path));
                case "required" -> {
                    Set<String> keys = new LinkedHashSet<>();
                    va.forEach(n -> keys.add(n.asText()));
                    vb.forEach(n -> keys.add(n.asText()));
                    ArrayNode req = NODES.arrayNode();
                    keys.forEach(req::add);
                    out.set("required", req);
                }
                case "minimum", "minLength", "minItems", "minProperties" ->
                        out.set(k, va.decimalValue().compareTo(vb.decimalValue()) >= 0 ? va : vb);
                case "maximum", "maxLength", "maxItems", "maxProperties" ->
                        out.set(k, va.decimalValue().compareTo(vb.decimalValue()) <= 0 ? va : vb);
                case "exclusiveMinimum" -> out.set(k, bothNumbers(va, vb, k, path)
                        && va.decimalValue().compareTo(vb.decimalValue()) >= 0 ? va : vb);
                case "exclusiveMaximum" -> out.set(k, bothNumbers(va, vb, k, path)
                        && va.decimalValue().compareTo(vb.decimalValue()) <= 0 ? va : vb);
                case "enum" -> {
                    ArrayNode both = NODES.arrayNode();
                    va.forEach(x -> vb.forEach(y -> {
                        if (SchemaCompiler.sameValue(x, y)) {
                            both.add(x);
                        }
                    }));
                    if (both.isEmpty()) {
                        throw new InvalidSchemaException(path, "The 'allOf' at '" + path + "' has enums with no common value.");
                    }
                    out.set("enum", both);
                }
                default -> throw new UnsupportedSchemaException(k, path, "'allOf' at '" + path + "' combines two different '"
                        + k + "' values, which cannot be enforced together.");
            }
        }
        if (has(a, b, "properties") || has(a, b, "additionalProperties")) {
            mergeProperties(a, b, out, path);
        }
        return out;
    }

    private static boolean has(JsonNode a, JsonNode b, String k) {
        return a.has(k) || b.has(k);
    }

    private static boolean bothNumbers(JsonNode va, JsonNode vb, String k, String path) {
        if (!va.isNumber() || !vb.isNumber()) {
            throw new UnsupportedSchemaException(k, path, "'allOf' at '" + path + "' mixes boolean and numeric '" + k + "'.");
        }
        return true;
    }

    /** Each member's properties, with the other member's additionalProperties applied to keys it does not declare. */
    private void mergeProperties(ObjectNode a, ObjectNode b, ObjectNode out, String path) {
        JsonNode propsA = a.path("properties");
        JsonNode propsB = b.path("properties");
        JsonNode addA = a.get("additionalProperties");
        JsonNode addB = b.get("additionalProperties");
        Set<String> keys = new LinkedHashSet<>();
        propsA.fieldNames().forEachRemaining(keys::add);
        propsB.fieldNames().forEachRemaining(keys::add);
        Set<String> required = new LinkedHashSet<>();
        out.path("required").forEach(n -> required.add(n.asText()));
        ObjectNode props = NODES.objectNode();
        for (String key : keys) {
            List<JsonNode> parts = new ArrayList<>();
            for (JsonNode[] side : new JsonNode[][]{{propsA, addA}, {propsB, addB}}) {
                JsonNode own = side[0].get(key);
                JsonNode applied = own != null ? own : side[1] != null && !(side[1].isBoolean() && side[1].booleanValue()) ? side[1] : null;
                if (applied != null) {
                    parts.add(applied);
                }
            }
            if (parts.stream().anyMatch(p -> p.isBoolean() && !p.booleanValue())) {
                if (required.contains(key)) {
                    throw new InvalidSchemaException(path, "The 'allOf' at '" + path + "' requires property '" + key
                            + "' that one of its members forbids.");
                }
                props.put(key, false);
            } else if (parts.size() == 1) {
                props.set(key, parts.getFirst());
            } else {
                ObjectNode both = NODES.objectNode();
                both.putArray("allOf").add(parts.get(0)).add(parts.get(1));
                props.set(key, both);
            }
        }
        out.set("properties", props);
        boolean falseA = addA != null && addA.isBoolean() && !addA.booleanValue();
        boolean falseB = addB != null && addB.isBoolean() && !addB.booleanValue();
        boolean schemaA = addA != null && addA.isObject();
        boolean schemaB = addB != null && addB.isObject();
        if (falseA || falseB) {
            out.put("additionalProperties", false);
        } else if (schemaA && schemaB) {
            ObjectNode both = NODES.objectNode();
            both.putArray("allOf").add(addA).add(addB);
            out.set("additionalProperties", both);
        } else if (schemaA || schemaB) {
            out.set("additionalProperties", schemaA ? addA : addB);
        } else if (addA != null || addB != null) {
            out.put("additionalProperties", true);
        } else {
            out.remove("additionalProperties");
        }
    }

    private static JsonNode intersectTypes(JsonNode va, JsonNode vb, String path) {
        Set<String> a = SchemaCompiler.typeNames(va, path);
        Set<String> b = SchemaCompiler.typeNames(vb, path);
        ArrayNode out = NODES.arrayNode();
        for (String t : a) {
            if (b.contains(t)) {
                out.add(t);
            } else if (t.equals("integer") && b.contains("number")) {
                out.add("integer");
            } else if (t.equals("number") && b.contains("integer")) {
                out.add("integer");
            }
        }
        if (out.isEmpty()) {
            throw new InvalidSchemaException(path, "The 'allOf' at '" + path + "' has members with no type in common.");
        }
        return out.size() == 1 ? out.get(0) : out;
    }
}
