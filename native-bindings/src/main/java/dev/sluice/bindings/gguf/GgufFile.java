package dev.sluice.bindings.gguf;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeLibraries;
import dev.sluice.bindings.NativeStrings;
import dev.sluice.bindings.ggml.GgmlContext;
import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.bindings.raw.gguf_init_params;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A GGUF file's metadata and tensor directory, read by ggml's {@code gguf.h}. Tensor data is not
 * read: callers map the file and use {@link #dataOffset()} plus each tensor's offset.
 *
 * <p>Opened with {@code withTensors}, it also owns a ggml context holding one (unallocated)
 * tensor per GGUF tensor, with the file's names, types and shapes; it is freed with the file.
 * Not thread-safe; {@link #close()} may be called more than once.
 */
public final class GgufFile implements AutoCloseable {

    /** A tensor's directory entry: shape in ggml order (ne[0] is the row length). */
    public record TensorInfo(String name, GgmlType type, long[] shape, long offset, long bytes) {
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private final Path path;
    private MemorySegment gguf;
    private final GgmlContext tensorContext;
    private final Map<String, TensorInfo> tensors;

    private GgufFile(Path path, MemorySegment gguf, GgmlContext tensorContext) {
        this.path = path;
        this.gguf = gguf;
        this.tensorContext = tensorContext;
        this.tensors = Collections.unmodifiableMap(readTensorInfos());
    }

    /** Reads metadata and the tensor directory; with {@code withTensors}, also a tensor context. */
    public static GgufFile open(Path path, boolean withTensors) {
        NativeLibraries.ensureLoaded();
        if (!Files.isRegularFile(path)) {
            throw new NativeException("GGUF file " + path + " does not exist");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = gguf_init_params.allocate(arena);
            gguf_init_params.no_alloc(params, true);
            MemorySegment ctxOut = arena.allocate(ValueLayout.ADDRESS);
            gguf_init_params.ctx(params, withTensors ? ctxOut : MemorySegment.NULL);
            MemorySegment gguf = llama_cpp.gguf_init_from_file(arena.allocateFrom(path.toAbsolutePath().toString()), params);
            if (gguf.equals(MemorySegment.NULL)) {
                throw new NativeException(path + " is not a readable GGUF file (see the llama.cpp log)");
            }
            GgmlContext context = withTensors ? GgmlContext.adopt(ctxOut.get(ValueLayout.ADDRESS, 0)) : null;
            return new GgufFile(path, gguf, context);
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return llama_cpp.gguf_get_version(pointer());
    }

    public long alignment() {
        return llama_cpp.gguf_get_alignment(pointer());
    }

    /** Byte offset of the tensor data section in the file. */
    public long dataOffset() {
        return llama_cpp.gguf_get_data_offset(pointer());
    }

    /** Every metadata key, in file order. */
    public List<String> keys() {
        long n = llama_cpp.gguf_get_n_kv(pointer());
        List<String> keys = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            keys.add(NativeStrings.read(llama_cpp.gguf_get_key(pointer(), i)));
        }
        return keys;
    }

    public boolean has(String key) {
        return find(key) >= 0;
    }

    public Optional<GgufValueType> type(String key) {
        long id = find(key);
        return id < 0 ? Optional.empty() : Optional.of(GgufValueType.of(llama_cpp.gguf_get_kv_type(pointer(), id)));
    }

    /** The element type of an array value. */
    public Optional<GgufValueType> arrayType(String key) {
        long id = find(key);
        if (id < 0 || llama_cpp.gguf_get_kv_type(pointer(), id) != GgufValueType.ARRAY.ordinal()) {
            return Optional.empty();
        }
        return Optional.of(GgufValueType.of(llama_cpp.gguf_get_arr_type(pointer(), id)));
    }

    /** An integer value of any width (unsigned 64-bit values above Long.MAX_VALUE wrap). */
    public OptionalLong integer(String key) {
        long id = find(key);
        if (id < 0) {
            return OptionalLong.empty();
        }
        MemorySegment ctx = pointer();
        return OptionalLong.of(switch (GgufValueType.of(llama_cpp.gguf_get_kv_type(ctx, id))) {
            case UINT8 -> Byte.toUnsignedLong(llama_cpp.gguf_get_val_u8(ctx, id));
            case INT8 -> llama_cpp.gguf_get_val_i8(ctx, id);
            case UINT16 -> Short.toUnsignedLong(llama_cpp.gguf_get_val_u16(ctx, id));
            case INT16 -> llama_cpp.gguf_get_val_i16(ctx, id);
            case UINT32 -> Integer.toUnsignedLong(llama_cpp.gguf_get_val_u32(ctx, id));
            case INT32 -> llama_cpp.gguf_get_val_i32(ctx, id);
            case UINT64 -> llama_cpp.gguf_get_val_u64(ctx, id);
            case INT64 -> llama_cpp.gguf_get_val_i64(ctx, id);
            default -> throw wrongType(key, "an integer");
        });
    }

    /** A numeric value (integer or float) as a double. */
    public Optional<Double> number(String key) {
        long id = find(key);
        if (id < 0) {
            return Optional.empty();
        }
        GgufValueType type = GgufValueType.of(llama_cpp.gguf_get_kv_type(pointer(), id));
        return switch (type) {
            case FLOAT32 -> Optional.of((double) llama_cpp.gguf_get_val_f32(pointer(), id));
            case FLOAT64 -> Optional.of(llama_cpp.gguf_get_val_f64(pointer(), id));
            default -> {
                if (!type.isInteger()) {
                    throw wrongType(key, "a number");
                }
                yield Optional.of((double) integer(key).getAsLong());
            }
        };
    }

    public Optional<String> string(String key) {
        long id = find(key);
        if (id < 0) {
            return Optional.empty();
        }
        requireType(key, id, GgufValueType.STRING);
        return Optional.of(NativeStrings.read(llama_cpp.gguf_get_val_str(pointer(), id)));
    }

    public Optional<Boolean> bool(String key) {
        long id = find(key);
        if (id < 0) {
            return Optional.empty();
        }
        requireType(key, id, GgufValueType.BOOL);
        return Optional.of(llama_cpp.gguf_get_val_bool(pointer(), id));
    }

    /** Number of elements of an array value. */
    public OptionalLong arrayLength(String key) {
        long id = find(key);
        if (id < 0) {
            return OptionalLong.empty();
        }
        requireType(key, id, GgufValueType.ARRAY);
        return OptionalLong.of(llama_cpp.gguf_get_arr_n(pointer(), id));
    }

    public Optional<List<String>> stringArray(String key) {
        long id = find(key);
        if (id < 0) {
            return Optional.empty();
        }
        requireArrayOf(key, id, GgufValueType.STRING);
        long n = llama_cpp.gguf_get_arr_n(pointer(), id);
        List<String> values = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            values.add(NativeStrings.read(llama_cpp.gguf_get_arr_str(pointer(), id, i)));
        }
        return Optional.of(values);
    }

    /** A numeric array as doubles, whatever its element type. */
    public Optional<double[]> numberArray(String key) {
        long id = find(key);
        if (id < 0) {
            return Optional.empty();
        }
        requireType(key, id, GgufValueType.ARRAY);
        GgufValueType element = GgufValueType.of(llama_cpp.gguf_get_arr_type(pointer(), id));
        int n = (int) llama_cpp.gguf_get_arr_n(pointer(), id);
        MemorySegment data = llama_cpp.gguf_get_arr_data(pointer(), id).reinterpret(n * 8L);
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = switch (element) {
                case UINT8 -> Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, i));
                case INT8 -> data.get(ValueLayout.JAVA_BYTE, i);
                case UINT16 -> Short.toUnsignedInt(data.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
                case INT16 -> data.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i);
                case UINT32 -> Integer.toUnsignedLong(data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i));
                case INT32 -> data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                case FLOAT32 -> data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                case UINT64, INT64 -> data.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
                case FLOAT64 -> data.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
                case BOOL -> data.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
                default -> throw wrongType(key, "a numeric array");
            };
        }
        return Optional.of(values);
    }

    /**
     * A value as a plain Java object: Long, Double, Boolean, String, or a List of those. For
     * copying metadata wholesale (e.g. a tokenizer's keys into a generated model).
     */
    public Object value(String key) {
        long id = find(key);
        if (id < 0) {
            throw new IllegalArgumentException("no GGUF key " + key + " in " + path);
        }
        GgufValueType type = GgufValueType.of(llama_cpp.gguf_get_kv_type(pointer(), id));
        if (type.isInteger()) {
            return integer(key).getAsLong();
        }
        return switch (type) {
            case FLOAT32, FLOAT64 -> number(key).orElseThrow();
            case BOOL -> bool(key).orElseThrow();
            case STRING -> string(key).orElseThrow();
            case ARRAY -> {
                GgufValueType element = arrayType(key).orElseThrow();
                if (element == GgufValueType.STRING) {
                    yield stringArray(key).orElseThrow();
                }
                double[] numbers = numberArray(key).orElseThrow();
                List<Object> list = new ArrayList<>(numbers.length);
                for (double v : numbers) {
                    list.add(element.isInteger() ? (Object) (long) v : (Object) v);
                }
                yield list;
            }
            default -> throw wrongType(key, "a supported value");
        };
    }

    /** Every tensor, in file order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Optional<TensorInfo> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The context of unallocated tensors mirroring the file (only when opened with tensors). */
    public GgmlContext tensorContext() {
        pointer();
        if (tensorContext == null) {
            throw new IllegalStateException(path + " was opened without a tensor context");
        }
        return tensorContext;
    }

    private Map<String, TensorInfo> readTensorInfos() {
        MemorySegment ctx = pointer();
        long n = llama_cpp.gguf_get_n_tensors(ctx);
        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        for (long i = 0; i < n; i++) {
            MemorySegment ne = llama_cpp.gguf_get_tensor_ne(ctx, i).reinterpret(4 * 8L);
            long[] shape = ne.toArray(ValueLayout.JAVA_LONG);
            int dims = 4;
            while (dims > 1 && shape[dims - 1] == 1) {
                dims--;
            }
            String name = NativeStrings.read(llama_cpp.gguf_get_tensor_name(ctx, i));
            infos.put(name, new TensorInfo(name, GgmlType.of(llama_cpp.gguf_get_tensor_type(ctx, i)),
                    java.util.Arrays.copyOf(shape, dims), llama_cpp.gguf_get_tensor_offset(ctx, i),
                    llama_cpp.gguf_get_tensor_size(ctx, i)));
        }
        return infos;
    }

    private long find(String key) {
        try (Arena arena = Arena.ofConfined()) {
            return llama_cpp.gguf_find_key(pointer(), arena.allocateFrom(key));
        }
    }

    private void requireType(String key, long id, GgufValueType expected) {
        int actual = llama_cpp.gguf_get_kv_type(pointer(), id);
        if (actual != expected.ordinal()) {
            throw wrongType(key, expected.name().toLowerCase());
        }
    }

    private void requireArrayOf(String key, long id, GgufValueType element) {
        requireType(key, id, GgufValueType.ARRAY);
        if (llama_cpp.gguf_get_arr_type(pointer(), id) != element.ordinal()) {
            throw wrongType(key, "an array of " + element.name().toLowerCase());
        }
    }

    private IllegalArgumentException wrongType(String key, String expected) {
        return new IllegalArgumentException("GGUF key " + key + " in " + path.getFileName() + " is not " + expected);
    }

    private MemorySegment pointer() {
        if (gguf == null) {
            throw new IllegalStateException("GgufFile " + path.getFileName() + " is closed");
        }
        return gguf;
    }

    @Override
    public void close() {
        if (gguf == null) {
            return;
        }
        if (tensorContext != null) {
            tensorContext.close();
        }
        llama_cpp.gguf_free(gguf);
        gguf = null;
    }
}
