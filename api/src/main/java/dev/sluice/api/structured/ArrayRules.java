package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * Arrays: {@code prefixItems} (or draft 4's array-valued {@code items}), {@code items} (or
 * {@code additionalItems}) for the rest, {@code minItems} and {@code maxItems}. Without a schema for
 * the items after a prefix, the grammar adds only as many (any JSON values) as {@code minItems}
 * needs. {@code uniqueItems: true} is enforced only where it holds by itself (at most one item).
 */
final class ArrayRules {

    private ArrayRules() {
    }

    static String array(SchemaCompiler c, JsonNode s, String path) {
        Gbnf g = c.g;
        String ws = JsonRules.ws(g);
        long min = count(s, "minItems", path, 0);
        long max = count(s, "maxItems", path, -1);
        JsonNode unique = s.get("uniqueItems");
        if (unique != null && unique.asBoolean(false) && (max < 0 || max > 1)) {
            throw new UnsupportedSchemaException("uniqueItems", path, "'uniqueItems' at '" + SchemaCompiler.where(path)
                    + "' cannot be enforced by a grammar (unless maxItems is at most 1).");
        }
        List<JsonNode> prefix = new ArrayList<>();
        JsonNode items = s.get("items");
        JsonNode rest = items;
        String restPath = path + "/items";
        if (s.has("prefixItems")) {
            s.get("prefixItems").forEach(prefix::add);
        } else if (items != null && items.isArray()) {
            items.forEach(prefix::add);
            rest = s.get("additionalItems");
            restPath = path + "/additionalItems";
        }
        boolean restForbidden = rest != null && rest.isBoolean() && !rest.booleanValue();
        if (rest == null && !prefix.isEmpty()) {
            rest = min > prefix.size() ? JsonRules.TRUE : null; // extra items only as many as minItems needs
            if (rest == null) {
                restForbidden = true;
            } else if (max < 0) {
                max = min;
            }
        }
        if (rest == null) {
            rest = JsonRules.TRUE;
        }
        int k = (int) (max >= 0 ? Math.min(prefix.size(), max) : prefix.size());
        if (restForbidden && min > k) {
            throw new InvalidSchemaException(path, "'minItems' at '" + SchemaCompiler.where(path) + "' asks for more items than the array allows.");
        }
        if (max == 0) {
            return g.rule("arr", "\"[\" " + ws + " \"]\"");
        }
        List<String> elements = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            elements.add(g.rule("item", c.compile(prefix.get(i), path + "/prefixItems/" + i) + " " + ws));
        }
        String tail = "";
        if (!restForbidden && (max < 0 || max > k)) {
            String item = g.rule("item", c.compile(rest, restPath) + " " + ws);
            long restMin = Math.max(0, min - k);
            long restMax = max < 0 ? -1 : max - k;
            if (k == 0) {
                String more = g.rule("more", "\",\" " + ws + " " + item);
                String seq = item + " " + g.repeat(more, Math.max(0, restMin - 1), restMax < 0 ? -1 : restMax - 1, "maxItems", path);
                tail = restMin == 0 ? "( " + seq + " )?" : seq;
            } else {
                tail = g.repeat(g.rule("more", "\",\" " + ws + " " + item), restMin, restMax, "maxItems", path);
            }
        }
        // prefix items: p0 ("," p1 ("," p2 ... tail)?)? with the first min of them required
        String body = tail;
        for (int i = k - 1; i >= 0; i--) {
            String element = (i == 0 ? "" : "\",\" " + ws + " ") + elements.get(i) + (body.isEmpty() ? "" : " " + body);
            body = i < min ? element : "( " + element + " )?";
            if (i > 0) {
                body = g.rule("items", body);
            }
        }
        return g.rule("arr", "\"[\" " + ws + " " + (body.isEmpty() ? "" : body + " ") + "\"]\"");
    }

    private static long count(JsonNode s, String keyword, String path, long absent) {
        JsonNode v = s.get(keyword);
        if (v == null) {
            return absent;
        }
        if (!v.isNumber() || v.decimalValue().stripTrailingZeros().scale() > 0 || v.asLong() < 0) {
            throw new InvalidSchemaException(path, "'" + keyword + "' at '" + SchemaCompiler.where(path)
                    + "' must be a non-negative integer.");
        }
        return v.asLong();
    }
}
