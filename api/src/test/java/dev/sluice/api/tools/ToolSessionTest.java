package dev.sluice.api.tools;

import dev.sluice.api.http.ApiException;
import dev.sluice.api.openai.Json;
import dev.sluice.bindings.NativeBuild;
import dev.sluice.engine.chat.ChatTemplate;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Format detection, tool_choice semantics and the forcing grammar's shape, per template. */
class ToolSessionTest {

    private static final String TOOLS = "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\","
            + " \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}},"
            + " {\"type\": \"function\", \"function\": {\"name\": \"now\"}}]";

    private static ChatTemplate template(String name) throws IOException {
        return ChatTemplate.of(Files.readString(NativeBuild.sourceDir().resolve("models/templates/" + name + ".jinja")),
                ChatTemplate.SpecialTokens.NONE);
    }

    private static ToolSession session(String body, ChatTemplate template) {
        return ToolSession.of(ToolRequest.parse(Json.parse(("{" + body + "}").getBytes(StandardCharsets.UTF_8))), template);
    }

    @Test
    void detectsTheFormatFromTheTemplate() throws IOException {
        assertEquals(ToolFormat.HERMES, ToolFormat.detect(template("Qwen-Qwen2.5-7B-Instruct")));
        assertEquals(ToolFormat.HERMES, ToolFormat.detect(template("Qwen-Qwen3-0.6B")));
        assertEquals(ToolFormat.HERMES, ToolFormat.detect(template("NousResearch-Hermes-3-Llama-3.1-8B-tool_use")));
        assertEquals(ToolFormat.LLAMA3, ToolFormat.detect(template("meta-llama-Llama-3.1-8B-Instruct")));
        assertEquals(ToolFormat.LLAMA3, ToolFormat.detect(template("meta-llama-Llama-3.3-70B-Instruct")));
        assertEquals(ToolFormat.MISTRAL, ToolFormat.detect(template("mistralai-Mistral-Nemo-Instruct-2407")));
        // Gemma 2 renders no tools: they are written into the system message and read back generically.
        assertEquals(ToolFormat.GENERIC, ToolFormat.detect(template("google-gemma-2-2b-it")));
        assertEquals(ToolFormat.GENERIC, ToolFormat.detect(ChatTemplate.chatMl(ChatTemplate.SpecialTokens.NONE)));
    }

    @Test
    void toolChoiceDecidesParsingAndGrammar() throws IOException {
        ChatTemplate qwen = template("Qwen-Qwen2.5-7B-Instruct");
        ToolSession auto = session(TOOLS, qwen);
        assertTrue(auto.parses());
        assertTrue(auto.grammar().isEmpty());
        assertEquals(2, auto.templateTools().size());
        // auto: free text, and from <tool_call> on the same grammar as required (lazy).
        ToolSession.LazyGrammar lazy = auto.autoGrammar().orElseThrow();
        assertEquals(java.util.List.of("<tool_call>"), lazy.triggers());
        assertEquals(session(TOOLS + ", \"tool_choice\": \"required\"", qwen).grammar().orElseThrow(), lazy.gbnf());
        assertTrue(session(TOOLS + ", \"tool_choice\": \"required\"", qwen).autoGrammar().isEmpty());
        ToolSession.LazyGrammar llama = session(TOOLS, template("meta-llama-Llama-3.1-8B-Instruct")).autoGrammar()
                .orElseThrow();
        assertEquals(java.util.List.of("{\"name\""), llama.triggers(), "Llama 3's bare call opens with {\"name\"");
        assertTrue(llama.gbnf().contains("\"{\\\"name\\\": \\\"get_weather\\\", \\\"parameters\\\": \""), llama.gbnf());
        assertEquals(java.util.List.of("[TOOL_CALLS]"),
                session(TOOLS, template("mistralai-Mistral-Nemo-Instruct-2407")).autoGrammar().orElseThrow().triggers(),
                "Mistral's marker (a control token in its vocabulary: the engine triggers on its id)");
        assertTrue(session(TOOLS.replace("\"type\": \"string\"", "\"type\": \"array\", \"uniqueItems\": true"), qwen)
                .autoGrammar().isEmpty(), "a schema the compiler cannot enforce leaves auto unconstrained");

        assertEquals(Integer.MAX_VALUE, auto.maxCalls());
        assertEquals(1, session(TOOLS + ", \"parallel_tool_calls\": false", qwen).maxCalls());
        assertEquals(1, session(TOOLS, template("meta-llama-Llama-3.1-8B-Instruct")).maxCalls());

        ToolSession none = session(TOOLS + ", \"tool_choice\": \"none\"", qwen);
        assertFalse(none.parses());
        assertTrue(none.grammar().isEmpty());
        assertEquals(2, none.templateTools().size(), "tools are still rendered with none, as llama-server does");

        String required = session(TOOLS + ", \"tool_choice\": \"required\"", qwen).grammar().orElseThrow();
        assertTrue(required.startsWith("root ::= \"<tool_call>\\n\" call \"\\n</tool_call>\" ( \"\\n\" \"<tool_call>\\n\" call"),
                required);
        assertTrue(required.contains("\"{\\\"name\\\": \\\"get_weather\\\", \\\"arguments\\\": \" args-0"), required);
        assertTrue(required.contains("\"{\\\"name\\\": \\\"now\\\", \\\"arguments\\\": \" args-1"), required);

        String single = session(TOOLS + ", \"tool_choice\": \"required\", \"parallel_tool_calls\": false", qwen)
                .grammar().orElseThrow();
        assertTrue(single.startsWith("root ::= \"<tool_call>\\n\" call \"\\n</tool_call>\"\n"), single);

        String named = session(TOOLS + ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"now\"}}", qwen)
                .grammar().orElseThrow();
        assertFalse(named.contains("get_weather"), named);
        assertTrue(named.startsWith("root ::= \"<tool_call>\\n\" call \"\\n</tool_call>\"\n"), named);
    }

    @Test
    void llama3HasOneCallPerTurn() throws IOException {
        ChatTemplate llama = template("meta-llama-Llama-3.1-8B-Instruct");
        String grammar = session(TOOLS + ", \"tool_choice\": \"required\"", llama).grammar().orElseThrow();
        assertTrue(grammar.startsWith("root ::= call\n"), grammar);
        assertTrue(grammar.contains("\\\"parameters\\\": \" args-0"), grammar);
        ApiException e = assertThrows(ApiException.class,
                () -> session(TOOLS + ", \"parallel_tool_calls\": true", llama));
        assertEquals("parallel_tool_calls", e.param());
    }

    @Test
    void mistralListsItsCalls() throws IOException {
        String grammar = session(TOOLS + ", \"tool_choice\": \"required\"", template("mistralai-Mistral-Nemo-Instruct-2407"))
                .grammar().orElseThrow();
        assertTrue(grammar.startsWith("root ::= \"[TOOL_CALLS][\" call ( \", \" call )* \"]\"\n"), grammar);
    }
}
