package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** {@code enum} and {@code const}: the allowed values written out as literals (compact JSON), filtered by {@code type}. */
final class EnumRules {

    private EnumRules() {
    }

    static String values(Gbnf g, JsonNode s, String path) {
        List<JsonNode> values = new ArrayList<>();
        JsonNode e = s.get("enum");
        if (e != null) {
            if (!e.isArray() || e.isEmpty()) {
                throw new InvalidSchemaException(path, "'enum' at '" + SchemaCompiler.where(path) + "' must be a non-empty array.");
            }
            e.forEach(values::add);
        }
        JsonNode c = s.get("const");
        if (c != null) {
            values = e == null ? List.of(c) : values.stream().filter(v -> SchemaCompiler.sameValue(v, c)).toList();
        }
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("enum") && !k.equals("const") && !k.equals("type") && Keywords.isKnown(k)) {
                throw new UnsupportedSchemaException(k, path, "'" + k + "' together with 'enum' or 'const' at '"
                        + SchemaCompiler.where(path) + "' is not supported; list only the allowed values.");
            }
        }
        if (s.has("type")) {
            Set<String> types = SchemaCompiler.typeNames(s.get("type"), path);
            values = values.stream().filter(v -> types.stream().anyMatch(t -> isOfType(v, t))).toList();
        }
        if (values.isEmpty()) {
            throw new InvalidSchemaException(path, "No value of 'enum'/'const' at '" + SchemaCompiler.where(path)
                    + "' satisfies the schema.");
        }
        Set<String> literals = new LinkedHashSet<>();
        for (JsonNode v : values) {
            literals.add(Gbnf.literal(SchemaCompiler.toJson(v)));
        }
        return g.rule("enum", String.join(" | ", literals));
    }

    static boolean isOfType(JsonNode v, String type) {
        return switch (type) {
            case "null" -> v.isNull();
            case "boolean" -> v.isBoolean();
            case "string" -> v.isTextual();
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "number" -> v.isNumber();
            case "integer" -> v.isIntegralNumber() || v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0;
            default -> false;
        };
    }
}
