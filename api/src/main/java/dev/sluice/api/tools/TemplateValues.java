package dev.sluice.api.tools;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON as a chat template sees it: Python's types (dict in key order, list, str, int, float,
 * bool, None), so that {@code tojson} writes it back as Python's {@code json.dumps} would.
 */
final class TemplateValues {

    private TemplateValues() {
    }

    static Object of(JsonNode node) {
        return switch (node.getNodeType()) {
            case OBJECT -> {
                Map<String, Object> map = new LinkedHashMap<>();
                node.properties().forEach(e -> map.put(e.getKey(), of(e.getValue())));
                yield map;
            }
            case ARRAY -> {
                List<Object> list = new ArrayList<>(node.size());
                node.forEach(item -> list.add(of(item)));
                yield list;
            }
            case STRING -> node.textValue();
            case BOOLEAN -> node.booleanValue();
            case NUMBER -> node.isIntegralNumber() ? (Object) (node.canConvertToLong() ? node.longValue() : node.bigIntegerValue())
                    : (Object) node.doubleValue();
            case NULL, MISSING -> null;
            default -> node.toString();
        };
    }

    /** The request's tools as Hugging Face passes them to a template: {@code {"type": "function", "function": {…}}}. */
    static List<Map<String, Object>> tools(List<ToolDefinition> tools) {
        List<Map<String, Object>> out = new ArrayList<>(tools.size());
        for (ToolDefinition tool : tools) {
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", tool.name());
            if (tool.description() != null) {
                function.put("description", tool.description());
            }
            function.put("parameters", of(tool.parameters()));
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("type", "function");
            t.put("function", function);
            out.add(t);
        }
        return out;
    }
}
