package dev.sluice.api.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code --models} file: the model versions to load at start and each name's route.
 *
 * <pre>
 * models:
 *   - {name: qwen, version: "1", path: qwen-v1.gguf}
 *   - {name: qwen, version: "2", path: qwen-v2.gguf, max_model_len: 4096}
 * routes:
 *   qwen: {weights: {"1": 90, "2": 10}, sticky: user}
 * </pre>
 *
 * Paths are relative to the file. A name without a route sends all traffic to its first version.
 *
 * @param routes by name, every name's (explicit or default) route
 */
public record ModelsFile(List<ModelSpec> models, Map<String, Route> routes) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** Reads and checks the file; {@link IllegalArgumentException} says what is wrong and where. */
    public static ModelsFile read(Path file) {
        JsonNode root;
        try {
            root = YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
        try {
            return parse(root, file.toAbsolutePath().getParent());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
    }

    static ModelsFile parse(JsonNode root, Path base) {
        if (root == null || !root.isObject() || !root.path("models").isArray() || root.path("models").isEmpty()) {
            throw new IllegalArgumentException("expected 'models:' with a list of {name, version, path}");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!field.equals("models") && !field.equals("routes")) {
                throw new IllegalArgumentException("unknown top-level key '" + field + "' (expected 'models' and 'routes')");
            }
        }
        List<ModelSpec> models = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        int i = 0;
        for (JsonNode node : root.get("models")) {
            ModelSpec spec;
            try {
                spec = ModelSpec.fromJson(node, base);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("models[" + i + "]: " + e.getMessage());
            }
            if (!ids.add(spec.id())) {
                throw new IllegalArgumentException("models[" + i + "]: " + spec.id() + " is listed twice");
            }
            models.add(spec);
            i++;
        }
        Map<String, Route> routes = new LinkedHashMap<>();
        JsonNode r = root.get("routes");
        if (r != null && !r.isNull()) {
            if (!r.isObject()) {
                throw new IllegalArgumentException("'routes' must map model names to routes");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = r.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                Route route;
                try {
                    route = Route.fromJson(e.getValue());
                } catch (IllegalArgumentException ex) {
                    throw new IllegalArgumentException("routes." + name + ": " + ex.getMessage());
                }
                List<String> versions = new ArrayList<>(route.weights().keySet());
                if (route.shadow() != null) {
                    versions.add(route.shadow().version());
                }
                for (String v : versions) {
                    if (!ids.contains(name + ":" + v)) {
                        throw new IllegalArgumentException("routes." + name + " names " + name + ":" + v
                                + ", which is not in 'models'");
                    }
                }
                routes.put(name, route);
            }
        }
        for (ModelSpec spec : models) {
            routes.putIfAbsent(spec.name(), Route.single(spec.version()));
        }
        return new ModelsFile(List.copyOf(models), routes);
    }
}
