package dev.sluice.api.models;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.engine.kv.KvCacheBudget;
import dev.sluice.engine.testmodel.Preset;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One model version to serve: its name and version (clients ask for {@code name} or pin
 * {@code name:version}), its GGUF file, and the options that may differ per version. Options left
 * unset (null or 0) take the server's (the command line's) values.
 *
 * @param path          the GGUF file; null for a generated demo model
 * @param demo          the demo model's preset (random weights) when there is no path, else null
 * @param kvCacheMemory the KV pool's size, or null for the server's
 * @param kvCacheTokens the KV pool in tokens instead, or 0
 * @param maxModelLen   longest prompt + completion, or 0 for the server's
 * @param chatTemplate  a Jinja chat template replacing the GGUF's, or null
 */
public record ModelSpec(String name, String version, Path path, String demo, KvCacheBudget kvCacheMemory,
                        int kvCacheTokens, int maxModelLen, String chatTemplate) {

    /** Names and versions: letters, digits and {@code . _ -}, as ids in URLs and metric labels. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private static final Set<String> FIELDS = Set.of("name", "version", "path", "demo", "kv_cache_memory",
            "kv_cache_tokens", "max_model_len", "chat_template");

    public ModelSpec {
        require(name, "name");
        require(version, "version");
        if ((path == null) == (demo == null)) {
            throw new IllegalArgumentException("model " + name + ":" + version + " needs either 'path' (a GGUF file) or "
                    + "'demo' (a generated demo preset), not both");
        }
        if (demo != null) {
            Preset.byId(demo); // fails naming the presets
        }
        if (kvCacheTokens < 0 || maxModelLen < 0) {
            throw new IllegalArgumentException("kv_cache_tokens and max_model_len must not be negative");
        }
    }

    /** A GGUF file with the server's options. */
    public static ModelSpec of(String name, String version, Path path) {
        return new ModelSpec(name, version, path, null, null, 0, 0, null);
    }

    /** A generated demo model (random weights) with the server's options. */
    public static ModelSpec demo(String name, String version, String preset) {
        return new ModelSpec(name, version, null, preset, null, 0, 0, null);
    }

    /**
     * Reads {@code {"name": "qwen", "version": "2", "path": "qwen-v2.gguf", "max_model_len": 4096,
     * "kv_cache_memory": "1GiB", "kv_cache_tokens": 0, "chat_template": "..."}} (or {@code "demo":
     * "tiny-llama"} instead of a path). A relative path is resolved against {@code base}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static ModelSpec fromJson(JsonNode node, Path base) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("a model is an object with 'name', 'version' and 'path'");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw new IllegalArgumentException("unknown model field '" + field + "' (known: " + FIELDS + ")");
            }
        }
        String path = text(node, "path");
        Path resolved = path == null ? null : base == null ? Path.of(path) : base.resolve(path);
        String kv = text(node, "kv_cache_memory");
        return new ModelSpec(text(node, "name"), text(node, "version"), resolved, text(node, "demo"),
                kv == null ? null : KvCacheBudget.parse(kv), integer(node, "kv_cache_tokens"), integer(node, "max_model_len"),
                text(node, "chat_template"));
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isValueNode() || v.isBoolean()) {
            throw new IllegalArgumentException("'" + field + "' must be a string");
        }
        return v.asText();
    }

    private static int integer(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return 0;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException("'" + field + "' must be an integer");
        }
        return v.intValue();
    }

    private static void require(String value, String what) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new IllegalArgumentException(what + " must be 1 to 128 letters, digits, '.', '_' or '-' (starting with "
                    + "a letter or digit), got '" + (value == null ? "" : value.length() > 64 ? value.substring(0, 64) + "…" : value) + "'");
        }
    }

    /** {@code name:version}: how a client pins this version. */
    public String id() {
        return name + ":" + version;
    }

    public boolean isRandomDemo() {
        return demo != null;
    }
}
