package dev.sluice.engine.testmodel;

import dev.sluice.bindings.ggml.GgmlType;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How a generated model stores its weight matrices. Norm weights and biases always stay F32.
 *
 * <p>A matrix whose rows do not split into the type's blocks is stored in a fallback type, as
 * llama.cpp's quantize tool does: Q8_0 for the 256-element K-quant blocks (llama-quantize picks
 * Q5_0 for Q4_K; Q8_0 keeps the fallback simple and exact enough), and F16 when even 32-element
 * blocks do not fit.
 */
public enum WeightType {
    F32(GgmlType.F32, 0),
    F16(GgmlType.F16, 1),
    BF16(GgmlType.BF16, 32),
    Q8_0(GgmlType.Q8_0, 7),
    Q4_0(GgmlType.Q4_0, 2),
    Q4_K(GgmlType.Q4_K, 14),
    Q6_K(GgmlType.Q6_K, 18);

    private final GgmlType ggmlType;
    private final int fileType;

    WeightType(GgmlType ggmlType, int fileType) {
        this.ggmlType = ggmlType;
        this.fileType = fileType;
    }

    public GgmlType ggmlType() {
        return ggmlType;
    }

    /** The {@code llama_ftype} written as {@code general.file_type} (Q4_K: MOSTLY_Q4_K_S). */
    public int fileType() {
        return fileType;
    }

    /** Lower-case name for file names and command lines, e.g. {@code q8_0}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The type a matrix with rows of {@code rowLength} elements is stored in. */
    public GgmlType storageFor(long rowLength) {
        if (rowLength % ggmlType.blockSize() == 0) {
            return ggmlType;
        }
        return rowLength % GgmlType.Q8_0.blockSize() == 0 ? GgmlType.Q8_0 : GgmlType.F16;
    }

    public static WeightType byId(String id) {
        return Arrays.stream(values()).filter(t -> t.id().equalsIgnoreCase(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown weight type '" + id + "'; the types are "
                        + Arrays.stream(values()).map(WeightType::id).collect(Collectors.joining(", "))));
    }
}
