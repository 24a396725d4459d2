package dev.sluice.api.structured;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compiler against the corpus in {@code src/test/resources/schemas} (one schema per file,
 * with hand-written valid and invalid documents): for every schema, llama.cpp's parser takes the
 * grammar; outputs sampled under it from random logits (several seeds, temperature 1) that end
 * are valid JSON that networknt's validator accepts; the valid documents are accepted by the
 * grammar and the invalid ones rejected (each also judged by the validator, so the corpus itself
 * is checked).
 */
class SchemaCorpusTest {

    private static final int SEEDS = 6;
    private static final int MAX_TOKENS = 192;

    private static GrammarHarness harness;

    @BeforeAll
    static void load() {
        harness = new GrammarHarness();
    }

    @AfterAll
    static void unload() {
        harness.close();
    }

    static List<Path> corpus() {
        try (Stream<Path> files = Files.list(Paths.get("src/test/resources/schemas"))) {
            return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyOutputValidatesAndTheGrammarTellsValidFromInvalid() throws IOException {
        List<Path> files = corpus();
        assertTrue(files.size() >= 100, "corpus has " + files.size() + " schemas");
        List<String> failures = new ArrayList<>();
        int outputs = 0;
        int complete = 0;
        int schemasWithOutput = 0;
        int documents = 0;
        for (Path file : files) {
            String name = file.getFileName().toString();
            JsonNode entry = SchemaOracle.STRICT.readTree(file.toFile());
            JsonNode schemaNode = entry.get("schema");
            String grammar;
            try {
                grammar = JsonSchemaGrammar.compile(schemaNode);
            } catch (IllegalArgumentException e) {
                failures.add(name + ": does not compile: " + e.getMessage());
                continue;
            }
            if (!harness.parses(grammar)) {
                failures.add(name + ": llama.cpp rejects the grammar:\n" + grammar);
                continue;
            }
            Schema schema = SchemaOracle.schema(schemaNode);
            int done = 0;
            for (int seed = 0; seed < SEEDS; seed++) {
                String text = harness.generate(grammar, seed, MAX_TOKENS);
                outputs++;
                if (text == null) {
                    continue;
                }
                done++;
                List<String> problems = SchemaOracle.problems(schema, text);
                if (!problems.isEmpty()) {
                    failures.add(name + " seed " + seed + ": output " + text + " is invalid: " + problems);
                }
            }
            complete += done;
            schemasWithOutput += done > 0 ? 1 : 0;
            for (JsonNode valid : entry.path("valid")) {
                documents++;
                List<String> problems = SchemaOracle.problems(schema, valid.textValue());
                if (!problems.isEmpty()) {
                    failures.add(name + ": corpus error, 'valid' " + valid.textValue() + " fails the validator: " + problems);
                } else if (!harness.accepts(grammar, valid.textValue())) {
                    failures.add(name + ": the grammar rejects the valid document " + valid.textValue());
                }
            }
            for (JsonNode invalid : entry.path("invalid")) {
                documents++;
                if (SchemaOracle.problems(schema, invalid.textValue()).isEmpty()) {
                    failures.add(name + ": corpus error, 'invalid' " + invalid.textValue() + " passes the validator");
                } else if (harness.accepts(grammar, invalid.textValue())) {
                    failures.add(name + ": the grammar accepts the invalid document " + invalid.textValue());
                }
            }
        }
        System.out.printf("schema corpus: %d schemas, %d outputs sampled, %d complete (%d schemas with one at least), "
                        + "%d hand-written documents, %d failures%n", files.size(), outputs, complete, schemasWithOutput,
                documents, failures.size());
        assertEquals(List.of(), failures, String.join("\n", failures));
        assertTrue(schemasWithOutput >= files.size() * 9 / 10, "only " + schemasWithOutput + " of " + files.size()
                + " schemas gave a complete output within " + MAX_TOKENS + " tokens");
    }
}
