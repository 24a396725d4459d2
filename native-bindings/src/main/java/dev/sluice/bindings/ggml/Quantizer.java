package dev.sluice.bindings.ggml;

import dev.sluice.bindings.NativeLibraries;
import dev.sluice.bindings.raw.ggml_to_float_t;
import dev.sluice.bindings.raw.ggml_type_traits;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Set;

/**
 * Converts rows of F32 values to a ggml tensor type and back with ggml's own converters
 * ({@code ggml_quantize_chunk} and the type's {@code to_float}), so the bytes are exactly what
 * llama.cpp's tools write and its kernels expect.
 *
 * <p>Arguments are checked here because ggml aborts the process on a bad row length. Both methods
 * are thread-safe; callers may convert disjoint rows of one tensor in parallel.
 */
public final class Quantizer {

    /**
     * The types {@code ggml_quantize_chunk} produces without an importance matrix. The other IQ
     * types either require one or assert on its absence inside ggml.
     */
    private static final Set<GgmlType> SUPPORTED = EnumSet.of(
            GgmlType.F32, GgmlType.F16, GgmlType.BF16,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
            GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
            GgmlType.IQ4_NL, GgmlType.IQ4_XS);

    private Quantizer() {
    }

    /** Whether {@link #quantize} can produce {@code type}. */
    public static boolean canQuantize(GgmlType type) {
        NativeLibraries.ensureLoaded();
        return SUPPORTED.contains(type) && !llama_cpp.ggml_quantize_requires_imatrix(type.id());
    }

    /**
     * Converts {@code rows} rows of {@code rowLength} F32 values at the start of {@code src} into
     * {@code type}, written at the start of {@code dst}.
     *
     * @return the bytes written: {@code rows * type.rowBytes(rowLength)}
     * @throws IllegalArgumentException if the type is unsupported, the row length is not a multiple
     *         of the type's block size, or a segment is too small or not native
     */
    public static long quantize(GgmlType type, MemorySegment src, MemorySegment dst, long rows, long rowLength) {
        if (!canQuantize(type)) {
            throw new IllegalArgumentException("ggml cannot quantize to " + type + " without an importance matrix");
        }
        long bytes = checkRows(type, rows, rowLength);
        checkSegment("source", src, rows * rowLength * Float.BYTES);
        checkSegment("destination", dst, bytes);
        if (rows == 0) {
            return 0;
        }
        return llama_cpp.ggml_quantize_chunk(type.id(), src, dst, 0, rows, rowLength, MemorySegment.NULL);
    }

    /**
     * Converts {@code rows} rows of {@code rowLength} elements of {@code type} at the start of
     * {@code src} to F32 values at the start of {@code dst}.
     */
    public static void dequantize(GgmlType type, MemorySegment src, MemorySegment dst, long rows, long rowLength) {
        long bytes = checkRows(type, rows, rowLength);
        checkSegment("source", src, bytes);
        checkSegment("destination", dst, rows * rowLength * Float.BYTES);
        if (type == GgmlType.F32) {
            MemorySegment.copy(src, 0, dst, 0, bytes);
            return;
        }
        MemorySegment traits = llama_cpp.ggml_get_type_traits(type.id()).reinterpret(ggml_type_traits.layout().byteSize());
        MemorySegment toFloat = ggml_type_traits.to_float(traits);
        if (toFloat.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("ggml has no conversion from " + type + " to F32");
        }
        if (rows > 0) {
            ggml_to_float_t.invoke(toFloat, src, dst, rows * rowLength);
        }
    }

    private static long checkRows(GgmlType type, long rows, long rowLength) {
        if (rows < 0 || rowLength <= 0) {
            throw new IllegalArgumentException("bad row count " + rows + " or row length " + rowLength);
        }
        long block = type.blockSize();
        if (rowLength % block != 0) {
            throw new IllegalArgumentException("row length " + rowLength + " is not a multiple of " + type
                    + "'s block size " + block);
        }
        return Math.multiplyExact(rows, type.rowBytes(rowLength));
    }

    private static void checkSegment(String what, MemorySegment segment, long bytes) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("the " + what + " segment must be native memory");
        }
        if (segment.byteSize() < bytes) {
            throw new IllegalArgumentException("the " + what + " segment holds " + segment.byteSize()
                    + " bytes, " + bytes + " needed");
        }
    }
}
