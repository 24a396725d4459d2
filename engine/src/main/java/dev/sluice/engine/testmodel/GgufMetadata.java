package dev.sluice.engine.testmodel;

import dev.sluice.bindings.gguf.GgufValueType;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The key/value pairs of a GGUF file being written, each checked against its declared type as it
 * is added, in insertion order, and their encoding in the header. {@code general.alignment}, the
 * one key that changes the file's layout, is checked to be a UINT32 power of two and kept as
 * {@link #alignment()}. Not thread-safe.
 */
final class GgufMetadata {

    static final String ALIGNMENT_KEY = "general.alignment";

    private record Entry(GgufValueType type, GgufValueType elementType, Object value) {
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private int alignment = GgufWriter.DEFAULT_ALIGNMENT;

    /** The data alignment in bytes: {@code general.alignment} if set, else the default. */
    int alignment() {
        return alignment;
    }

    int size() {
        return entries.size();
    }

    /**
     * Checks a scalar or string value (see {@link GgufWriter#put}) before it is added.
     *
     * @throws IllegalArgumentException if it is an array, or not a valid value of {@code type}
     */
    static void checkScalar(String key, GgufValueType type, Object value) {
        if (type == GgufValueType.ARRAY) {
            throw new IllegalArgumentException("use putArray for the array value of " + key);
        }
        checkValue(key, type, value);
        if (key.equals(ALIGNMENT_KEY)) {
            long bytes = ((Number) value).longValue();
            if (type != GgufValueType.UINT32 || Long.bitCount(bytes) != 1) {
                throw new IllegalArgumentException(ALIGNMENT_KEY + " must be a UINT32 power of two, not " + type + " " + value);
            }
        }
    }

    /**
     * Checks an array of scalars or strings before it is added.
     *
     * @throws IllegalArgumentException if it nests arrays, sets the alignment, or holds an invalid value
     */
    static void checkArray(String key, GgufValueType elementType, List<?> values) {
        if (elementType == GgufValueType.ARRAY) {
            throw new IllegalArgumentException("GGUF has no nested arrays (" + key + ")");
        }
        if (key.equals(ALIGNMENT_KEY)) {
            throw new IllegalArgumentException(ALIGNMENT_KEY + " must be a UINT32");
        }
        for (Object value : values) {
            checkValue(key, elementType, value);
        }
    }

    /** Adds a value {@link #checkScalar} accepted. */
    void putScalar(String key, GgufValueType type, Object value) {
        add(key, new Entry(type, null, value));
        if (key.equals(ALIGNMENT_KEY)) {
            alignment = (int) ((Number) value).longValue();
        }
    }

    /** Adds an array {@link #checkArray} accepted. */
    void putArray(String key, GgufValueType elementType, List<?> values) {
        add(key, new Entry(GgufValueType.ARRAY, elementType, List.copyOf(values)));
    }

    private void add(String key, Entry entry) {
        if (key.isEmpty() || entries.containsKey(key)) {
            throw new IllegalArgumentException(key.isEmpty() ? "empty GGUF key" : "duplicate GGUF key " + key);
        }
        entries.put(key, entry);
    }

    /** Every pair as GGUF encodes it: key, value type, then the value (an array: element type, count, elements). */
    void encode(GgufBytes header) {
        for (Map.Entry<String, Entry> kv : entries.entrySet()) {
            Entry entry = kv.getValue();
            header.string(kv.getKey()).u32(entry.type().ordinal());
            if (entry.type() == GgufValueType.ARRAY) {
                List<?> values = (List<?>) entry.value();
                header.u32(entry.elementType().ordinal()).u64(values.size());
                for (Object value : values) {
                    header.value(entry.elementType(), value);
                }
            } else {
                header.value(entry.type(), entry.value());
            }
        }
    }

    private static void checkValue(String key, GgufValueType type, Object value) {
        boolean ok = switch (type) {
            case UINT8 -> inRange(value, 0, 0xFF);
            case INT8 -> inRange(value, Byte.MIN_VALUE, Byte.MAX_VALUE);
            case UINT16 -> inRange(value, 0, 0xFFFF);
            case INT16 -> inRange(value, Short.MIN_VALUE, Short.MAX_VALUE);
            case UINT32 -> inRange(value, 0, 0xFFFF_FFFFL);
            case INT32 -> inRange(value, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case UINT64, INT64 -> inRange(value, Long.MIN_VALUE, Long.MAX_VALUE);
            case FLOAT32, FLOAT64 -> value instanceof Number;
            case BOOL -> value instanceof Boolean;
            case STRING -> value instanceof String;
            case ARRAY -> false;
        };
        if (!ok) {
            throw new IllegalArgumentException("GGUF key " + key + ": " + value + " is not a valid " + type);
        }
    }

    private static boolean inRange(Object value, long min, long max) {
        if (!(value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte)) {
            return false;
        }
        long v = ((Number) value).longValue();
        return v >= min && v <= max;
    }
}
