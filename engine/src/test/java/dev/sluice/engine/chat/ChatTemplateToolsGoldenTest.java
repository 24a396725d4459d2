package dev.sluice.engine.chat;

import dev.sluice.bindings.NativeBuild;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every chat template in llama.cpp's {@code models/templates} renders tools, tool calls and tool
 * results exactly as Hugging Face's Jinja2 renders them. The expected files were written by
 * {@code golden-tools/generate.py}; the conversations here must match the script's.
 */
class ChatTemplateToolsGoldenTest {

    static final List<Map<String, Object>> TOOLS = List.of(
            tool("get_weather", "Current weather in a city.", map(
                    "type", "object",
                    "properties", map(
                            "city", map("type", "string", "description", "City name"),
                            "unit", map("type", "string", "enum", List.of("celsius", "fahrenheit"))),
                    "required", List.of("city"))),
            tool("add", "Adds two integers.", map(
                    "type", "object",
                    "properties", map("a", map("type", "integer"), "b", map("type", "integer")),
                    "required", List.of("a", "b"),
                    "additionalProperties", false)));

    static final List<ChatMessage> OFFER = List.of(
            ChatMessage.system("You are a helpful assistant."), ChatMessage.user("What is the weather in Paris?"));

    static final List<ChatMessage> TURNS = List.of(
            ChatMessage.system("You are a helpful assistant."),
            ChatMessage.user("Weather in Paris, and 2 + 40?"),
            new ChatMessage("assistant", "", List.of(
                    new ChatMessage.ToolCall("call00001", "get_weather", "{\"city\": \"Paris\", \"unit\": \"celsius\"}",
                            map("city", "Paris", "unit", "celsius")),
                    new ChatMessage.ToolCall("call00002", "add", "{\"a\": 2, \"b\": 40}", map("a", 2L, "b", 40L))),
                    null, null),
            new ChatMessage("tool", "{\"temperature\": 21}", List.of(), "call00001", "get_weather"),
            new ChatMessage("tool", "42", List.of(), "call00002", "add"),
            ChatMessage.assistant("It is 21 degrees in Paris, and 2 + 40 = 42."),
            ChatMessage.user("Thanks! And in Tokyo?"));

    /**
     * Renderings where Jinjava still differs from Jinja2, each with its cause. The test asserts they
     * differ, so fixing one fails it until the entry goes.
     */
    static final Map<String, String> KNOWN_DIFFERENCES = Map.ofEntries(
            Map.entry("NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.offer.txt", "parameter fields rendered twice (not yet diagnosed)"),
            Map.entry("NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.turns.txt", "parameter fields rendered twice (not yet diagnosed)"),
            Map.entry("Qwen3-Coder.offer.txt", "parameter fields rendered twice (not yet diagnosed)"),
            Map.entry("Qwen3-Coder.turns.txt", "parameter fields rendered twice (not yet diagnosed)"),
            Map.entry("Apriel-1.6-15b-Thinker-fixed.turns.txt", "blank lines after tool results (not yet diagnosed)"),
            Map.entry("ByteDance-Seed-OSS.offer.txt", "takes another branch for the tool list (not yet diagnosed)"),
            Map.entry("ByteDance-Seed-OSS.turns.txt", "takes another branch for the tool list (not yet diagnosed)"),
            Map.entry("CohereForAI-c4ai-command-r7b-12-2024-tool_use.turns.txt", "indent of tojson(indent=4) in a list"),
            Map.entry("MiniMax-M3.turns.txt", "its recursive argument macro renders nothing (not yet diagnosed)"),
            Map.entry("meetkai-functionary-medium-v3.1.offer.txt", "Jinja2 HTML-escapes the tool JSON there; Jinjava does not"),
            Map.entry("meetkai-functionary-medium-v3.1.turns.txt", "Jinja2 HTML-escapes the tool JSON there; Jinjava does not"));

    static Map<String, Object> tool(String name, String description, Map<String, Object> parameters) {
        return map("type", "function", "function", map("name", name, "description", description, "parameters", parameters));
    }

    /** An insertion-ordered map, as Python's dict literal is. */
    static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    static Stream<String> goldenFiles() throws IOException, URISyntaxException {
        try (Stream<Path> files = Files.list(goldenDir())) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".txt")).sorted().toList().stream();
        }
    }

    @Test
    void coversTheReferenceTemplates() throws Exception {
        // 70 templates × 2 conversations, minus those Jinja2 itself cannot render (see generate.py's output).
        assertEquals(132, goldenFiles().count());
    }

    @ParameterizedTest
    @MethodSource("goldenFiles")
    void rendersToolsLikeTransformers(String goldenFile) throws Exception {
        String[] parts = goldenFile.split("\\.(?=(offer|turns)\\.)", 2);
        String template = parts[0];
        String variant = parts[1].substring(0, parts[1].indexOf('.'));
        String source = Files.readString(NativeBuild.sourceDir().resolve("models/templates/" + template + ".jinja"));
        String expected = Files.readString(goldenDir().resolve(goldenFile));
        JinjaTemplate jinja = new JinjaTemplate(source, ChatTemplate.Limits.DEFAULT, ChatTemplateGoldenTest.SCRIPT_CLOCK);
        ToolSupport support = ToolSupport.probe(v -> jinja.render(withTokens(v)));
        List<Map<String, Object>> turns = new ArrayList<>();
        for (ChatMessage m : variant.equals("offer") ? OFFER : TURNS) {
            turns.add(ToolSupport.turn(m, support.objectArguments()));
        }
        Map<String, Object> variables = withTokens(map("messages", turns, "tools", TOOLS, "add_generation_prompt", true));

        if (goldenFile.endsWith(".error.txt")) {
            ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> jinja.render(variables));
            assertEquals(ChatTemplateException.Reason.REJECTED, e.reason());
            assertEquals(expected, e.getMessage());
        } else if (KNOWN_DIFFERENCES.containsKey(goldenFile)) {
            assertNotEquals(expected, jinja.render(variables), "fixed? remove it from KNOWN_DIFFERENCES");
        } else {
            assertEquals(expected, jinja.render(variables));
        }
    }

    @Test
    void probesWhatTemplatesDoWithTools() throws Exception {
        ToolSupport qwen = support("Qwen-Qwen2.5-7B-Instruct");
        assertEquals(new ToolSupport(true, true, true, true), qwen);
        assertEquals(new ToolSupport(true, true, true, true), support("meta-llama-Llama-3.1-8B-Instruct"));
        assertEquals(new ToolSupport(true, true, true, true), support("mistralai-Mistral-Nemo-Instruct-2407"));
        // DeepSeek R1 renders calls and results but not the tool list: the polyfill writes that in.
        assertEquals(new ToolSupport(false, true, true, true), support("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B"));
        // Gemma 2 knows nothing of tools.
        ToolSupport gemma = support("google-gemma-2-2b-it");
        assertFalse(gemma.tools());
        assertFalse(gemma.toolResponses());
    }

    @Test
    void aTemplateWithoutToolsGetsThemInItsSystemMessageAndCallsAsText() {
        String chatMl = "{%- for message in messages %}"
                + "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
                + "{%- endfor %}"
                + "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";
        ChatTemplate template = ChatTemplate.of(chatMl, ChatTemplate.SpecialTokens.NONE);
        // It writes every turn's role and content, so tool results render; the rest does not.
        assertEquals(new ToolSupport(false, false, true, true), template.toolSupport());
        String expected = "<|im_start|>system\nYou are a helpful assistant.\n\n# Tools\n\n"
                + "You may call one or more functions to assist with the user query.\n\n"
                + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
                + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Current weather in a city.\", "
                + "\"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name\"}, "
                + "\"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}}, \"required\": [\"city\"]}}}\n"
                + "{\"type\": \"function\", \"function\": {\"name\": \"add\", \"description\": \"Adds two integers.\", "
                + "\"parameters\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}, \"b\": {\"type\": \"integer\"}}, "
                + "\"required\": [\"a\", \"b\"], \"additionalProperties\": false}}}\n</tools>\n\n"
                + "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
                + "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
                + "<|im_start|>user\nWeather in Paris, and 2 + 40?<|im_end|>\n"
                + "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call>\n"
                + "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 40}}\n</tool_call><|im_end|>\n"
                + "<|im_start|>tool\n{\"temperature\": 21}<|im_end|>\n<|im_start|>tool\n42<|im_end|>\n"
                + "<|im_start|>assistant\nIt is 21 degrees in Paris, and 2 + 40 = 42.<|im_end|>\n"
                + "<|im_start|>user\nThanks! And in Tokyo?<|im_end|>\n<|im_start|>assistant\n";
        assertEquals(expected, template.render(TURNS, TOOLS, true));
    }

    @Test
    void aTemplateWithToolsRendersThemItself() throws IOException {
        String source = Files.readString(NativeBuild.sourceDir().resolve("models/templates/Qwen-Qwen2.5-7B-Instruct.jinja"));
        ChatTemplate template = ChatTemplate.of(source, ChatTemplate.SpecialTokens.NONE);
        assertEquals(goldenText("Qwen-Qwen2.5-7B-Instruct.turns.txt"), template.render(TURNS, TOOLS, true));
    }

    private static String goldenText(String name) {
        try {
            return Files.readString(goldenDir().resolve(name));
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ToolSupport support(String template) throws IOException {
        String source = Files.readString(NativeBuild.sourceDir().resolve("models/templates/" + template + ".jinja"));
        return ChatTemplate.of(source, new ChatTemplate.SpecialTokens("<s>", "</s>", false, false)).toolSupport();
    }

    private static Map<String, Object> withTokens(Map<String, Object> variables) {
        Map<String, Object> all = new LinkedHashMap<>(variables);
        all.put("bos_token", "<s>");
        all.put("eos_token", "</s>");
        return all;
    }

    private static Path goldenDir() throws URISyntaxException {
        return Path.of(ChatTemplateToolsGoldenTest.class.getResource("golden-tools").toURI());
    }
}
