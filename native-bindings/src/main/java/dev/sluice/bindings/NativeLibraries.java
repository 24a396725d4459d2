package dev.sluice.bindings;

import dev.sluice.bindings.raw.llama_cpp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Loads llama.cpp's shared libraries once per process, in dependency order, and initializes them.
 *
 * <p>The generated bindings pass no library to jextract: they resolve symbols through the class
 * loader's lookup, which sees exactly the libraries loaded here with {@link System#load}. Order
 * matters because the installed libraries carry no RPATH: {@code libggml-base}, then the backends
 * {@code libggml} links against (statically registered builds), then {@code libggml}, then
 * {@code libllama}. Builds with dynamically loaded backends ({@code GGML_BACKEND_DL}) instead
 * register their backends through {@code ggml_backend_load_all_from_path}.
 */
public final class NativeLibraries {

    private static volatile Loaded loaded;

    private NativeLibraries() {
    }

    /** What was loaded, from where. */
    public record Loaded(Path libraryDir, List<Path> libraries, boolean dynamicBackends) {
    }

    /** Loads the libraries if this process has not yet; safe to call from any thread, any number of times. */
    public static Loaded ensureLoaded() {
        Loaded current = loaded;
        if (current != null) {
            return current;
        }
        synchronized (NativeLibraries.class) {
            if (loaded == null) {
                loaded = load(NativeBuild.libraryDir());
            }
            return loaded;
        }
    }

    private static Loaded load(Path dir) {
        boolean dynamicBackends = NativeBuild.usesDynamicBackends(dir);
        List<Path> order = new ArrayList<>();
        order.add(require(dir, "ggml-base"));
        if (!dynamicBackends) {
            order.addAll(linkedBackends(dir));
        }
        order.add(require(dir, "ggml"));
        order.add(require(dir, "llama"));
        for (Path library : order) {
            try {
                System.load(library.toAbsolutePath().toString());
            } catch (UnsatisfiedLinkError e) {
                throw new NativeException("cannot load " + library + ": " + e.getMessage()
                        + " (rebuild with native-bindings/scripts/build-llama.sh)", e);
            }
        }
        NativeLog.install();
        if (dynamicBackends || llama_cpp.ggml_backend_reg_count() == 0) {
            try (Arena arena = Arena.ofConfined()) {
                llama_cpp.ggml_backend_load_all_from_path(arena.allocateFrom(dir.toAbsolutePath().toString()));
            }
        }
        llama_cpp.llama_backend_init();
        if (llama_cpp.ggml_backend_dev_count() == 0) {
            throw new NativeException("llama.cpp loaded from " + dir + " but registered no compute backend");
        }
        return new Loaded(dir, List.copyOf(order), dynamicBackends);
    }

    /** Backend libraries that a statically registering {@code libggml} links against: CPU first. */
    private static List<Path> linkedBackends(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files
                    .filter(p -> {
                        String name = p.getFileName().toString();
                        return name.startsWith("libggml-") && name.endsWith(".so") && !name.equals("libggml-base.so");
                    })
                    .sorted(Comparator.comparing((Path p) -> !p.getFileName().toString().equals("libggml-cpu.so"))
                            .thenComparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path require(Path dir, String name) {
        Path library = dir.resolve("lib" + name + ".so");
        if (!Files.exists(library)) {
            throw new NativeException("lib" + name + ".so not found in " + dir
                    + " (rebuild with native-bindings/scripts/build-llama.sh)");
        }
        return library;
    }
}
