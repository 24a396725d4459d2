package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeLibraries;
import dev.sluice.bindings.raw.llama_cpp;

/**
 * ggml's tensor element types ({@code enum ggml_type}), by their stable numeric ids. Block and
 * byte sizes come from ggml itself, so quantized types need no Java-side tables.
 */
public enum GgmlType {
    F32(0), F16(1), Q4_0(2), Q4_1(3), Q5_0(6), Q5_1(7), Q8_0(8), Q8_1(9),
    Q2_K(10), Q3_K(11), Q4_K(12), Q5_K(13), Q6_K(14), Q8_K(15),
    IQ2_XXS(16), IQ2_XS(17), IQ3_XXS(18), IQ1_S(19), IQ4_NL(20), IQ3_S(21), IQ2_S(22), IQ4_XS(23),
    I8(24), I16(25), I32(26), I64(27), F64(28), IQ1_M(29), BF16(30),
    TQ1_0(34), TQ2_0(35), MXFP4(39), NVFP4(40), Q1_0(41), Q2_0(42);

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType type : values()) {
            BY_ID[type.id] = type;
        }
    }

    private final int id;

    GgmlType(int id) {
        this.id = id;
    }

    /** The {@code enum ggml_type} value. */
    public int id() {
        return id;
    }

    public static GgmlType of(int id) {
        GgmlType type = id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
        if (type == null) {
            throw new IllegalArgumentException("unknown ggml_type " + id);
        }
        return type;
    }

    /** Elements per quantization block (1 for plain types). */
    public long blockSize() {
        NativeLibraries.ensureLoaded();
        return llama_cpp.ggml_blck_size(id);
    }

    /** Bytes per block. */
    public long blockBytes() {
        NativeLibraries.ensureLoaded();
        return llama_cpp.ggml_type_size(id);
    }

    /** Bytes of a row of {@code elements} elements (a multiple of the block size). */
    public long rowBytes(long elements) {
        NativeLibraries.ensureLoaded();
        return llama_cpp.ggml_row_size(id, elements);
    }

    public boolean isQuantized() {
        NativeLibraries.ensureLoaded();
        return llama_cpp.ggml_is_quantized(id);
    }

    /** ggml's own name for the type, e.g. {@code "q8_0"}. */
    public String ggmlName() {
        NativeLibraries.ensureLoaded();
        return dev.sluice.bindings.NativeStrings.read(llama_cpp.ggml_type_name(id));
    }
}
