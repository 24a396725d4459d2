package dev.sluice.bindings;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeLibrariesTest {

    @Test
    void loadsLibrariesInDependencyOrderOnce() {
        NativeLibraries.Loaded loaded = NativeLibraries.ensureLoaded();
        assertSame(loaded, NativeLibraries.ensureLoaded(), "second call must not reload");
        var names = loaded.libraries().stream().map(p -> p.getFileName().toString()).toList();
        assertEquals("libggml-base.so", names.getFirst());
        assertEquals("libllama.so", names.getLast());
        assertTrue(names.indexOf("libggml.so") > 0 && names.indexOf("libggml.so") < names.size() - 1, names.toString());
        loaded.libraries().forEach(p -> assertTrue(Files.exists(p), p + " exists"));
    }

    @Test
    void reportsTheCpuBackend() {
        var devices = SystemInfo.devices();
        assertTrue(devices.stream().anyMatch(d -> d.type() == SystemInfo.DeviceType.CPU),
                "a CPU device is registered: " + devices);
        var cpu = devices.stream().filter(d -> d.type() == SystemInfo.DeviceType.CPU).findFirst().orElseThrow();
        assertTrue(cpu.totalBytes() > 0, "CPU device reports its memory: " + cpu);
    }

    @Test
    void reportsSystemInfo() {
        String info = SystemInfo.llamaSystemInfo();
        assertTrue(info.contains("CPU"), info);
        int cores = SystemInfo.physicalCores();
        assertTrue(cores >= 1 && cores <= Runtime.getRuntime().availableProcessors(), "physical cores " + cores);
    }
}
