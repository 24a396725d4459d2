package dev.sluice.bindings;

import java.lang.foreign.MemorySegment;

/** Reading NUL-terminated C strings that native calls return as zero-length segments. */
public final class NativeStrings {

    private NativeStrings() {
    }

    /** The UTF-8 string at {@code pointer}, or {@code ""} for NULL. */
    public static String read(MemorySegment pointer) {
        if (pointer == null || pointer.equals(MemorySegment.NULL)) {
            return "";
        }
        return pointer.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
