package dev.sluice.bindings;

import dev.sluice.bindings.raw.llama_cpp;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** What the loaded llama.cpp build and this machine offer: compute devices, CPU features, cores. */
public final class SystemInfo {

    private SystemInfo() {
    }

    /** The kind of a ggml backend device ({@code enum ggml_backend_dev_type}). */
    public enum DeviceType { CPU, GPU, IGPU, ACCEL, META, UNKNOWN }

    /** A compute device ggml registered, with its memory as the backend reports it. */
    public record BackendDevice(String name, String description, DeviceType type, long freeBytes, long totalBytes) {
    }

    /** llama.cpp's one-line summary of the CPU features it was built with and detected. */
    public static String llamaSystemInfo() {
        NativeLibraries.ensureLoaded();
        return NativeStrings.read(llama_cpp.llama_print_system_info()).strip();
    }

    /** Every device of every registered backend. */
    public static List<BackendDevice> devices() {
        NativeLibraries.ensureLoaded();
        long count = llama_cpp.ggml_backend_dev_count();
        List<BackendDevice> devices = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            for (long i = 0; i < count; i++) {
                MemorySegment device = llama_cpp.ggml_backend_dev_get(i);
                llama_cpp.ggml_backend_dev_memory(device, free, total);
                int type = llama_cpp.ggml_backend_dev_type(device);
                DeviceType[] types = DeviceType.values();
                devices.add(new BackendDevice(
                        NativeStrings.read(llama_cpp.ggml_backend_dev_name(device)),
                        NativeStrings.read(llama_cpp.ggml_backend_dev_description(device)),
                        type >= 0 && type < types.length - 1 ? types[type] : DeviceType.UNKNOWN,
                        free.get(ValueLayout.JAVA_LONG, 0),
                        total.get(ValueLayout.JAVA_LONG, 0)));
            }
        }
        return List.copyOf(devices);
    }

    /**
     * Physical cores (not hyper-threads) this process may use: ggml's matmul threads contend for the
     * same execution units on sibling threads, so this is the right default thread count.
     */
    public static int physicalCores() {
        int logical = Runtime.getRuntime().availableProcessors();
        try {
            Set<String> cores = new HashSet<>();
            String physicalId = "0";
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("physical id")) {
                    physicalId = line.substring(line.indexOf(':') + 1).strip();
                } else if (line.startsWith("core id")) {
                    cores.add(physicalId + "/" + line.substring(line.indexOf(':') + 1).strip());
                }
            }
            // cpuinfo lists the whole machine; a container may grant fewer CPUs.
            return cores.isEmpty() ? logical : Math.max(1, Math.min(cores.size(), logical));
        } catch (IOException | RuntimeException e) {
            return logical;
        }
    }
}
