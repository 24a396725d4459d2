package dev.sluice.api;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README documents every option with its default, as {@link Option} defines it. */
class ReadmeTest {

    @Test
    void everyOptionIsDocumentedWithItsDefault() throws IOException {
        String readme = Files.readString(Path.of("../README.md"));
        for (Option o : Option.values()) {
            String row = "| `--" + o.flag() + "` | `" + o.environmentVariable() + "` | "
                    + (o.defaultValue().isEmpty() ? "(empty)" : "`" + o.defaultValue() + "`") + " |";
            assertTrue(readme.contains(row), "README.md documents --" + o.flag() + " as: " + row);
        }
    }
}
