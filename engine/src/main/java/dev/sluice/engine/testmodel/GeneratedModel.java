package dev.sluice.engine.testmodel;

import dev.sluice.bindings.ggml.GgmlType;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model file the generator wrote.
 *
 * @param tensorTypes  every tensor's storage type, in file order
 * @param fallbacks    matrices stored in a fallback type because their rows do not split into the
 *                     requested type's blocks (see {@link WeightType})
 */
public record GeneratedModel(Path path, long parameters, long bytes, Map<String, GgmlType> tensorTypes,
                             List<String> fallbacks) {

    public GeneratedModel {
        tensorTypes = Collections.unmodifiableMap(new LinkedHashMap<>(tensorTypes));
        fallbacks = List.copyOf(fallbacks);
    }
}
