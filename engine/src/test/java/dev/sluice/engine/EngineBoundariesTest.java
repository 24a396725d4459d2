package dev.sluice.engine;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine computes with its own graphs: its main code must never run llama.cpp's decoder
 * (that is the tests' oracle) nor reach the raw bindings past the typed layer.
 */
class EngineBoundariesTest {

    /** The oracle's classes, imported or fully qualified (comments may mention llama_decode). */
    private static final Pattern ORACLE = Pattern.compile(
            "dev\\.sluice\\.bindings\\.llama\\.(LlamaContext|LlamaReference|LlamaBatch)\\b");
    private static final Pattern RAW = Pattern.compile("dev\\.sluice\\.bindings\\.raw");

    @Test
    void mainCodeNeverUsesTheReferenceDecoderOrRawBindings() throws IOException {
        Path main = Path.of("src/main/java");
        assertTrue(Files.isDirectory(main), "run from the engine module");
        List<Path> sources;
        try (Stream<Path> files = Files.walk(main)) {
            sources = files.filter(p -> p.toString().endsWith(".java")).toList();
        }
        assertTrue(sources.size() > 5, "found the engine sources");
        List<String> offenders = sources.stream().filter(p -> {
            try {
                String text = Files.readString(p);
                return ORACLE.matcher(text).find() || RAW.matcher(text).find();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }).map(Path::toString).toList();
        assertEquals(List.of(), offenders);
    }
}
