package dev.sluice.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Large off-heap regions that cost nothing until used. {@link Arena#allocate} zero-fills the
 * whole region up front, so a multi-gigabyte KV pool would take seconds to start and its full
 * size in resident memory at once; an anonymous private mapping is zero-filled by the kernel page
 * by page, as it is first touched. The region belongs to the given arena and is unmapped when the
 * arena closes. Elsewhere than Linux it falls back to {@code arena.allocate}.
 */
public final class HostMemory {

    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;

    static {
        Linker linker = Linker.nativeLinker();
        if (LINUX) {
            MMAP = linker.downcallHandle(linker.defaultLookup().findOrThrow("mmap"),
                    FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
            MUNMAP = linker.downcallHandle(linker.defaultLookup().findOrThrow("munmap"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        } else {
            MMAP = null;
            MUNMAP = null;
        }
    }

    private HostMemory() {
    }

    /** {@code bytes} of zeroed, page-aligned memory owned by {@code arena}, committed lazily. */
    public static MemorySegment reserve(long bytes, Arena arena) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("size must be positive: " + bytes);
        }
        if (!LINUX) {
            return arena.allocate(bytes, 4096);
        }
        MemorySegment address;
        try {
            address = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
        } catch (Throwable t) {
            throw new NativeException("mmap failed", t);
        }
        if (address.address() == -1L) {
            throw new NativeException("could not reserve " + bytes + " bytes of host memory (mmap failed)");
        }
        return address.reinterpret(bytes, arena, segment -> unmap(segment.address(), bytes));
    }

    private static void unmap(long address, long bytes) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), bytes);
        } catch (Throwable t) {
            // Nothing to do: the process keeps the mapping until it exits.
        }
    }
}
