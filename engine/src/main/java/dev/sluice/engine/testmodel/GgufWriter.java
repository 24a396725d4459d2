package dev.sluice.engine.testmodel;

import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.bindings.gguf.GgufValueType;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Writes a GGUF v3 file as a stream, in pure Java: declare the metadata and every tensor first,
 * then hand over each tensor's data in declaration order, in as many pieces as convenient, so no
 * tensor ever has to sit in memory whole. The layout is what {@code gguf.cpp} reads and writes:
 * little-endian header, key/value pairs, tensor directory, padding to the alignment, then tensor
 * data, each tensor padded to the alignment ({@value #DEFAULT_ALIGNMENT} bytes unless the metadata
 * sets {@code general.alignment}).
 *
 * <p>The file is written to a temporary sibling and atomically renamed onto its path by
 * {@link #commit()}, so nobody ever sees a partial file, and two processes writing the same file at
 * once leave one complete copy. Closing without committing deletes the temporary file. Not
 * thread-safe.
 *
 * <p>{@link GgufMetadata} checks and encodes the key/value pairs, {@link GgufBytes} is the header's
 * little-endian encoding; this class declares the tensors, lays out the directory and the data, and
 * owns the file.
 */
public final class GgufWriter implements AutoCloseable {

    public static final int DEFAULT_ALIGNMENT = 32;

    private static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian int
    private static final int VERSION = 3;
    private static final int MAX_TENSOR_NAME_BYTES = 63; // GGML_MAX_NAME - 1 (room for the NUL)
    private static final long MAX_WRITE = 1L << 30;      // ByteBuffers index with int

    private record TensorEntry(String name, GgmlType type, long[] shape, long bytes) {
    }

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final GgufMetadata metadata = new GgufMetadata();
    private final Map<String, TensorEntry> tensors = new LinkedHashMap<>();
    private List<TensorEntry> pending;   // tensors whose data is still to come, once the header is out
    private long writtenOfCurrent;
    private boolean committed;
    private boolean closed;

    private GgufWriter(Path target, Path temp, FileChannel channel) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
    }

    /** Starts a file that will appear at {@code target} on {@link #commit()}. */
    public static GgufWriter create(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        // Not Files.createTempFile: that makes the file owner-only, and this one becomes the model file.
        Path temp = Files.createFile(absolute.resolveSibling(absolute.getFileName() + "." + UUID.randomUUID() + ".part"));
        try {
            return new GgufWriter(absolute, temp, FileChannel.open(temp, StandardOpenOption.WRITE));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    // ---- metadata --------------------------------------------------------------------------------

    /**
     * Adds a scalar or string value. Integer types take any integral {@link Number} in the type's
     * range ({@code UINT64} takes any long, as its bit pattern); float types take any number;
     * {@code BOOL} a Boolean; {@code STRING} a String.
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        GgufMetadata.checkScalar(key, type, value); // a bad value is reported before a late or closed writer
        checkDeclaring();
        metadata.putScalar(key, type, value);
        return this;
    }

    /** Adds an array of scalars or strings (GGUF has no arrays of arrays). */
    public GgufWriter putArray(String key, GgufValueType elementType, List<?> values) {
        GgufMetadata.checkArray(key, elementType, values);
        checkDeclaring();
        metadata.putArray(key, elementType, values);
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    public GgufWriter putUInt32(String key, long value) {
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValueType.BOOL, value);
    }

    // ---- tensors ---------------------------------------------------------------------------------

    /**
     * Declares a tensor; its data must later be written in declaration order.
     *
     * @param shape  ggml order, row length first: a matrix of {@code n} rows of {@code k} is {@code {k, n}}
     * @return the tensor's data size in bytes
     */
    public long addTensor(String name, GgmlType type, long... shape) {
        checkDeclaring();
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_TENSOR_NAME_BYTES || name.isEmpty()) {
            throw new IllegalArgumentException("tensor name '" + name + "' must be 1 to " + MAX_TENSOR_NAME_BYTES + " bytes");
        }
        if (tensors.containsKey(name)) {
            throw new IllegalArgumentException("duplicate tensor " + name);
        }
        if (shape.length < 1 || shape.length > 4) {
            throw new IllegalArgumentException("tensor " + name + " must have 1 to 4 dimensions");
        }
        long rows = 1;
        for (long d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor " + name + " has a non-positive dimension");
            }
            rows = Math.multiplyExact(rows, d);
        }
        rows /= shape[0];
        if (shape[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": row length " + shape[0]
                    + " is not a multiple of " + type + "'s block size " + type.blockSize());
        }
        long bytes = Math.multiplyExact(type.rowBytes(shape[0]), rows);
        tensors.put(name, new TensorEntry(name, type, shape.clone(), bytes));
        return bytes;
    }

    /**
     * Appends bytes to the data of the first tensor not yet complete; a tensor is complete once it
     * has received its size in bytes. Writes the header on first use; after that, no more metadata
     * or tensors can be declared.
     */
    public void writeTensorData(MemorySegment data) throws IOException {
        checkOpen();
        writeHeaderOnce();
        long offset = 0;
        while (offset < data.byteSize()) {
            if (pending.isEmpty()) {
                throw new IllegalStateException("more tensor data than the declared tensors hold");
            }
            TensorEntry tensor = pending.getFirst();
            long n = Math.min(data.byteSize() - offset, tensor.bytes() - writtenOfCurrent);
            write(data.asSlice(offset, n));
            offset += n;
            writtenOfCurrent += n;
            if (writtenOfCurrent == tensor.bytes()) {
                pad(tensor.bytes());
                pending.removeFirst();
                writtenOfCurrent = 0;
            }
        }
    }

    /** Flushes the file to disk and atomically moves it onto its path; returns that path. */
    public Path commit() throws IOException {
        checkOpen();
        writeHeaderOnce();
        if (!pending.isEmpty()) {
            throw new IllegalStateException("tensor " + pending.getFirst().name() + " has " + writtenOfCurrent + " of "
                    + pending.getFirst().bytes() + " bytes (and " + (pending.size() - 1) + " more tensors are missing)");
        }
        channel.force(true);
        channel.close();
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        committed = true;
        closed = true;
        return target;
    }

    /** Abandons an uncommitted file, deleting its temporary file. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } finally {
            if (!committed) {
                Files.deleteIfExists(temp);
            }
        }
    }

    // ---- encoding --------------------------------------------------------------------------------

    private void writeHeaderOnce() throws IOException {
        if (pending != null) {
            return;
        }
        GgufBytes header = new GgufBytes();
        header.u32(MAGIC).u32(VERSION).u64(tensors.size()).u64(metadata.size());
        metadata.encode(header);
        long offset = 0;
        for (TensorEntry tensor : tensors.values()) {
            header.string(tensor.name()).u32(tensor.shape().length);
            for (long d : tensor.shape()) {
                header.u64(d);
            }
            header.u32(tensor.type().id()).u64(offset);
            offset += padded(tensor.bytes());
        }
        header.zeros((int) (padded(header.size()) - header.size()));
        write(MemorySegment.ofBuffer(header.flip()));
        pending = new ArrayList<>(tensors.values());
    }

    private long padded(long bytes) {
        int alignment = metadata.alignment();
        return (bytes + alignment - 1) / alignment * alignment;
    }

    private void pad(long bytes) throws IOException {
        int padding = (int) (padded(bytes) - bytes);
        if (padding > 0) {
            write(MemorySegment.ofArray(new byte[padding]));
        }
    }

    private void write(MemorySegment data) throws IOException {
        for (long offset = 0; offset < data.byteSize(); offset += MAX_WRITE) {
            ByteBuffer buffer = data.asSlice(offset, Math.min(MAX_WRITE, data.byteSize() - offset)).asByteBuffer();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
    }

    private void checkDeclaring() {
        checkOpen();
        if (pending != null) {
            throw new IllegalStateException("metadata and tensors must be declared before tensor data is written");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("GgufWriter for " + target.getFileName() + " is closed");
        }
    }
}
