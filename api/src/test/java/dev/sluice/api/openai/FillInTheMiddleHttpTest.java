package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.TestServer;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;
import dev.sluice.engine.text.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code suffix} on {@code /v1/completions} end to end, on a generated SmolLM2-shaped model (its
 * StarCoder vocabulary has {@code <fim_prefix>}, {@code <fim_suffix>}, {@code <fim_middle>}): the
 * server's prompt is exactly the layout, token for token, so a greedy completion of it equals the
 * completion of those token ids sent as the prompt, with the same prompt length.
 */
class FillInTheMiddleHttpTest {

    private static final String MODEL = "smol-fim";
    private static Path model;
    private static TestServer server;

    @BeforeAll
    static void start() {
        model = TestModelGenerator.ensure(Preset.SMOLLM2_135M_SHAPE, WeightType.Q8_0, 42);
        server = TestServer.start("--model", model.toString(), "--model-name", MODEL, "--kv-cache-memory", "64MiB");
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void thePromptIsLaidOutAroundTheSuffix() {
        String prefix = "def fib(n):\n    ";
        String suffix = "\n    return a\n";
        int[] layout;
        int middle;
        int plainTokens;
        int suffixTokens;
        try (Tokenizer tokenizer = Tokenizer.open(model)) {
            layout = FillInTheMiddle.prompt(tokenizer, prefix, null, suffix, 8192);
            middle = tokenizer.encode("<fim_middle>", false, true)[0];
            plainTokens = tokenizer.encode(prefix, true, false).length;
            suffixTokens = tokenizer.encode(suffix, false, false).length;
        }
        assertEquals(middle, layout[layout.length - 1]);
        assertEquals(plainTokens + 3 + suffixTokens, layout.length, "no BOS: this vocabulary adds none");
        JsonNode fim = server.postOk("/v1/completions", Map.of("model", MODEL, "prompt", prefix, "suffix", suffix,
                "max_tokens", 6, "temperature", 0));
        JsonNode plain = server.postOk("/v1/completions", Map.of("model", MODEL, "prompt", IntStream.of(layout).boxed().toList(),
                "max_tokens", 6, "temperature", 0));
        assertEquals(layout.length, fim.get("usage").get("prompt_tokens").asInt());
        assertEquals(plain.get("usage").get("prompt_tokens").asInt(), fim.get("usage").get("prompt_tokens").asInt());
        assertEquals(plain.get("choices").get(0).get("text").asText(), fim.get("choices").get(0).get("text").asText());

        // Without the suffix the prompt is the text alone.
        JsonNode without = server.postOk("/v1/completions", Map.of("model", MODEL, "prompt", prefix, "max_tokens", 1,
                "temperature", 0));
        assertEquals(plainTokens, without.get("usage").get("prompt_tokens").asInt());
    }
}
