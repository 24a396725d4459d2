package dev.sluice.api.deploy;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields an object may have, for the custom resources fabric8 has no model class for here
 * (ServiceMonitor, KEDA's ScaledObject, GIE's InferencePool, Gateway API's HTTPRoute) and for
 * the endpoint picker's and Prometheus Adapter's configuration files. Hand-written from their
 * published API types, and only as deep as these manifests go: a field not listed fails, so a
 * typo in a key fails the build; {@link #ANY} accepts anything below it. A shape applies to an
 * object, or to each element of a list of objects.
 */
record Shape(Map<String, Shape> fields) {

    static final Shape ANY = new Shape(null);

    /** {@code of("name", ANY, "spec", of(...))}: field names each followed by its shape. */
    static Shape of(Object... namesAndShapes) {
        Map<String, Shape> fields = new LinkedHashMap<>();
        for (int i = 0; i < namesAndShapes.length; i += 2) {
            fields.put((String) namesAndShapes[i], (Shape) namesAndShapes[i + 1]);
        }
        return new Shape(fields);
    }

    /** Scalar fields (or any value) by name. */
    static Shape scalars(String... names) {
        Map<String, Shape> fields = new LinkedHashMap<>();
        for (String name : names) {
            fields.put(name, ANY);
        }
        return new Shape(fields);
    }

    /** This shape plus more fields. */
    Shape with(Object... namesAndShapes) {
        Map<String, Shape> all = new LinkedHashMap<>(fields);
        all.putAll(of(namesAndShapes).fields());
        return new Shape(all);
    }

    /** Adds a message per field of {@code node} that this shape does not allow. */
    void check(JsonNode node, String path, List<String> errors) {
        if (fields == null || node == null || node.isNull()) {
            return;
        }
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                check(node.get(i), path + "[" + i + "]", errors);
            }
            return;
        }
        if (!node.isObject()) {
            errors.add(path + ": expected an object, found " + node);
            return;
        }
        node.properties().forEach(e -> {
            Shape child = fields.get(e.getKey());
            if (child == null) {
                errors.add(path + "." + e.getKey() + ": unknown field (allowed: " + fields.keySet() + ")");
            } else {
                child.check(e.getValue(), path + "." + e.getKey(), errors);
            }
        });
    }
}
