package dev.sluice.testing;

import dev.sluice.bindings.NativeBuild;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Model files for tests: the small real models in {@code ../shared/models/} beside the checkout
 * (optional: tests that need them skip with a message) and reference files from the pinned
 * llama.cpp source.
 */
public final class TestModels {

    private TestModels() {
    }

    /** {@code ../shared/models} beside the checkout, or {@code $SLUICE_SHARED_MODELS}. */
    public static Optional<Path> sharedModelsDir() {
        String explicit = System.getenv("SLUICE_SHARED_MODELS");
        if (explicit != null && !explicit.isBlank()) {
            return Optional.of(Path.of(explicit)).filter(Files::isDirectory);
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isRegularFile(dir.resolve("pom.xml")) && Files.isDirectory(dir.resolve("native-bindings"))) {
                return Optional.of(dir.resolveSibling("shared").resolve("models")).filter(Files::isDirectory);
            }
            dir = dir.getParent();
        }
        return Optional.empty();
    }

    /** A model from the shared folder; the calling test is skipped, saying why, when it is absent. */
    public static Path sharedModel(String fileName) {
        Optional<Path> file = sharedModelsDir().map(d -> d.resolve(fileName)).filter(Files::isRegularFile);
        assumeTrue(file.isPresent(), () -> "skipped: " + fileName + " not found in ../shared/models beside the checkout"
                + " (or $SLUICE_SHARED_MODELS)");
        return file.get();
    }

    /** stories260K: real trained weights, llama architecture, all F32. */
    public static Path stories260K() {
        return sharedModel("stories260K.gguf");
    }

    /** A vocabulary-only GGUF shipped with the pinned llama.cpp source, e.g. {@code ggml-vocab-llama-spm.gguf}. */
    public static Path llamaCppVocab(String fileName) {
        Path file = NativeBuild.sourceDir().resolve("models").resolve(fileName);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(file + " is missing from the llama.cpp source");
        }
        return file;
    }
}
