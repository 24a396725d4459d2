package dev.sluice.engine.chat;

import dev.sluice.bindings.NativeBuild;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every chat template in llama.cpp's {@code models/templates} renders exactly as Hugging Face's
 * Jinja2 renders it. The expected files were written by {@code golden/generate.py} (Jinja2 set up as
 * transformers sets it up); conversations and the clock here must match the script's.
 */
class ChatTemplateGoldenTest {

    static final Clock SCRIPT_CLOCK = Clock.fixed(
            LocalDateTime.of(2025, 3, 7, 14, 30).atZone(ZoneId.systemDefault()).toInstant(), ZoneId.systemDefault());

    private static final Map<String, Conversation> CONVERSATIONS = Map.of(
            "sys", new Conversation(List.of(
                    List.of("system", "You are a helpful assistant"), List.of("user", "Hello"),
                    List.of("assistant", "Hi there"), List.of("user", "Who are you"),
                    List.of("assistant", "   I am an assistant   "), List.of("user", "Another question")), true),
            "nosys", new Conversation(List.of(
                    List.of("user", "Hello"), List.of("assistant", "Hi there"), List.of("user", "Who are you"),
                    List.of("assistant", "   I am an assistant   "), List.of("user", "Another question")), true),
            "tricky", new Conversation(List.of(
                    List.of("system", "  Be terse. {{ 7*7 }} {% if true %}x{% endif %}  "),
                    List.of("user", "Quote \" and \\ backslash\n\ttab, emoji 🧑‍💻, 日本語"),
                    List.of("assistant", "\n<think>\nhmm\n</think>\n\nAnswer: {'a': 1}\n"),
                    List.of("user", "Thanks!")), false));

    private record Conversation(List<List<String>> turns, boolean addGenerationPrompt) {
        Map<String, Object> variables() {
            List<Map<String, Object>> messages = new ArrayList<>();
            for (List<String> turn : turns) {
                Map<String, Object> message = new LinkedHashMap<>();
                message.put("role", turn.get(0));
                message.put("content", turn.get(1));
                messages.add(message);
            }
            return Map.of("messages", messages, "add_generation_prompt", addGenerationPrompt,
                    "bos_token", "<s>", "eos_token", "</s>");
        }
    }

    static Stream<String> goldenFiles() throws IOException, URISyntaxException {
        try (Stream<Path> files = Files.list(goldenDir())) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".txt")).sorted().toList().stream();
        }
    }

    @Test
    void coversEveryReferenceTemplate() throws Exception {
        // 70 templates × 3 conversations, minus firefunction-v2, which Jinja2 cannot render without tools.
        assertEquals(207, goldenFiles().count());
    }

    @ParameterizedTest
    @MethodSource("goldenFiles")
    void rendersLikeTransformers(String goldenFile) throws Exception {
        String[] parts = goldenFile.split("\\.(?=(sys|nosys|tricky)\\.)", 2);
        String template = parts[0];
        String variant = parts[1].substring(0, parts[1].indexOf('.'));
        String source = Files.readString(NativeBuild.sourceDir().resolve("models/templates/" + template + ".jinja"));
        String expected = Files.readString(goldenDir().resolve(goldenFile));
        JinjaTemplate jinja = new JinjaTemplate(source, ChatTemplate.Limits.DEFAULT, SCRIPT_CLOCK);
        Map<String, Object> variables = CONVERSATIONS.get(variant).variables();

        if (goldenFile.endsWith(".error.txt")) {
            ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> jinja.render(variables));
            assertEquals(ChatTemplateException.Reason.REJECTED, e.reason());
            assertEquals(expected, e.getMessage());
        } else {
            assertEquals(expected, jinja.render(variables));
        }
    }

    @Test
    void theGoldenFilesAreNotTrivial() throws Exception {
        // Guards against regenerating them from an empty or wrong directory.
        String llama = Files.readString(goldenDir().resolve("meta-llama-Llama-3.2-3B-Instruct.sys.txt"));
        assertTrue(llama.startsWith("<s><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
                + "Today Date: 07 Mar 2025\n\nYou are a helpful assistant<|eot_id|>"), llama);
    }

    private static Path goldenDir() throws URISyntaxException {
        return Path.of(ChatTemplateGoldenTest.class.getResource("golden").toURI());
    }
}
