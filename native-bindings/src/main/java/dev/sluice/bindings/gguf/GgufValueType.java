package dev.sluice.bindings.gguf;

/** The value types of GGUF metadata ({@code enum gguf_type}). */
public enum GgufValueType {
    UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64;

    static GgufValueType of(int id) {
        GgufValueType[] all = values();
        if (id < 0 || id >= all.length) {
            throw new IllegalArgumentException("unknown gguf_type " + id);
        }
        return all[id];
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    public boolean isFloat() {
        return this == FLOAT32 || this == FLOAT64;
    }
}
