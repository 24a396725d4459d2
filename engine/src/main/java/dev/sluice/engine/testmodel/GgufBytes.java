package dev.sluice.engine.testmodel;

import dev.sluice.bindings.gguf.GgufValueType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A growable little-endian buffer for a GGUF header, with GGUF's encodings: strings as a 64-bit
 * byte length then UTF-8, values in their type's width. Not thread-safe.
 */
final class GgufBytes {

    private ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

    int size() {
        return buffer.position();
    }

    ByteBuffer flip() {
        return buffer.flip();
    }

    private GgufBytes room(int bytes) {
        if (buffer.remaining() < bytes) {
            long capacity = Math.max((long) buffer.capacity() * 2, (long) buffer.position() + bytes);
            ByteBuffer bigger = ByteBuffer.allocate(Math.toIntExact(capacity)).order(ByteOrder.LITTLE_ENDIAN);
            buffer = bigger.put(buffer.flip());
        }
        return this;
    }

    GgufBytes u32(int v) {
        room(4).buffer.putInt(v);
        return this;
    }

    GgufBytes u64(long v) {
        room(8).buffer.putLong(v);
        return this;
    }

    GgufBytes string(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        u64(utf8.length);
        room(utf8.length).buffer.put(utf8);
        return this;
    }

    GgufBytes zeros(int n) {
        room(n).buffer.put(new byte[n]);
        return this;
    }

    /** One scalar or string value, already checked against {@code type}. */
    void value(GgufValueType type, Object value) {
        switch (type) {
            case UINT8, INT8 -> room(1).buffer.put(((Number) value).byteValue());
            case UINT16, INT16 -> room(2).buffer.putShort(((Number) value).shortValue());
            case UINT32, INT32 -> u32(((Number) value).intValue());
            case UINT64, INT64 -> u64(((Number) value).longValue());
            case FLOAT32 -> room(4).buffer.putFloat(((Number) value).floatValue());
            case FLOAT64 -> room(8).buffer.putDouble(((Number) value).doubleValue());
            case BOOL -> room(1).buffer.put((byte) ((Boolean) value ? 1 : 0));
            case STRING -> string((String) value);
            case ARRAY -> throw new IllegalArgumentException("nested GGUF array");
        }
    }
}
