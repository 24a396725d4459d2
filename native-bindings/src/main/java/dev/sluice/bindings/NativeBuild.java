package dev.sluice.bindings;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where the llama.cpp build that {@code native-bindings/scripts/build-llama.sh} produced lives.
 *
 * <p>The libraries are found, in order, from the system property {@value #LIB_DIR_PROPERTY}, the
 * environment variable {@value #LIB_DIR_ENV}, or the newest complete CPU or CUDA build in the
 * cache ({@code $SLUICE_CACHE}, else {@code $XDG_CACHE_HOME/sluice}, else {@code ~/.cache/sluice}).
 * The launchers always pass the directory explicitly; the cache scan is for IDEs and ad-hoc runs.
 */
public final class NativeBuild {

    /** The llama.cpp release the bindings were generated from and the libraries are built from. */
    public static final String LLAMA_CPP_TAG = "v0.5.0";

    public static final String LIB_DIR_PROPERTY = "sluice.llama.lib";
    public static final String LIB_DIR_ENV = "SLUICE_LLAMA_LIB";
    public static final String SOURCE_DIR_PROPERTY = "sluice.llama.source";
    public static final String SOURCE_DIR_ENV = "SLUICE_LLAMA_SOURCE";

    private NativeBuild() {
    }

    /** The cache the build script writes to. */
    public static Path cacheRoot() {
        String explicit = System.getenv("SLUICE_CACHE");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("sluice");
    }

    /** The directory holding {@code libllama.so} and the ggml libraries. */
    public static Path libraryDir() {
        Optional<Path> configured = configured(LIB_DIR_PROPERTY, LIB_DIR_ENV);
        if (configured.isPresent()) {
            Path dir = configured.get();
            if (!Files.isDirectory(dir)) {
                throw new NativeException("llama.cpp library directory " + dir + " (from -D" + LIB_DIR_PROPERTY
                        + " or $" + LIB_DIR_ENV + ") does not exist");
            }
            return dir;
        }
        return newestCompleteBuild()
                .map(build -> build.resolve("lib"))
                .orElseThrow(() -> new NativeException("no llama.cpp build found: set -D" + LIB_DIR_PROPERTY + " or $"
                        + LIB_DIR_ENV + ", or run native-bindings/scripts/build-llama.sh (bin/test and bin/server do)"));
    }

    /**
     * The unpacked llama.cpp source the libraries were built from. Tests read reference files from it
     * (for instance the vocabulary-only models under {@code models/}).
     */
    public static Path sourceDir() {
        Path dir = configured(SOURCE_DIR_PROPERTY, SOURCE_DIR_ENV)
                .orElse(cacheRoot().resolve("src").resolve("llama.cpp-" + LLAMA_CPP_TAG));
        if (!Files.isDirectory(dir)) {
            throw new NativeException("llama.cpp source " + dir + " not found: run native-bindings/scripts/build-llama.sh"
                    + " --source-only, or set -D" + SOURCE_DIR_PROPERTY);
        }
        return dir;
    }

    /** True when the libraries were built with dynamically loaded backends ({@code GGML_BACKEND_DL}). */
    static boolean usesDynamicBackends(Path libraryDir) {
        Path info = libraryDir.resolveSibling("build-info.txt");
        try {
            return Files.isRegularFile(info) && Files.readString(info).contains("-DGGML_BACKEND_DL=ON");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Optional<Path> configured(String property, String env) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            value = System.getenv(env);
        }
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(Path.of(value));
    }

    private static Optional<Path> newestCompleteBuild() {
        Path root = cacheRoot();
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> entries = Files.list(root)) {
            List<Path> builds = entries
                    .filter(p -> p.getFileName().toString().startsWith("llama.cpp-" + LLAMA_CPP_TAG + "-"))
                    .filter(p -> Files.isRegularFile(p.resolve(".complete")))
                    .sorted(Comparator.comparing(NativeBuild::completedAt).reversed())
                    .toList();
            return builds.stream().findFirst();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static FileTime completedAt(Path build) {
        try {
            return Files.getLastModifiedTime(build.resolve(".complete"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
