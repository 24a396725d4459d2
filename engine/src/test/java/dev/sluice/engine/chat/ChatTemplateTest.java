package dev.sluice.engine.chat;

import dev.sluice.bindings.NativeBuild;
import dev.sluice.engine.text.Tokenizer;
import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChatTemplateTest {

    private static final List<ChatMessage> CONVERSATION = LlamaCppChatTemplateCasesTest.CONVERSATION;
    private static final ChatTemplate.SpecialTokens TOKENS = new ChatTemplate.SpecialTokens("<s>", "</s>", false, false);

    /** The HF templates the engine must support, against Jinja2's renderings (see ChatTemplateGoldenTest). */
    @ParameterizedTest
    @ValueSource(strings = {"Qwen-Qwen2.5-7B-Instruct", "Qwen-Qwen3-0.6B", "meta-llama-Llama-3.2-3B-Instruct",
            "HuggingFaceTB-SmolLM3-3B", "mistralai-Mistral-Nemo-Instruct-2407"})
    void rendersAMultiTurnChatWithASystemMessage(String name) throws IOException {
        ChatTemplate template = referenceTemplate(name);
        assertEquals(ChatTemplate.Kind.JINJA, template.kind());
        assertTrue(template.supportsSystemRole());
        assertEquals(golden(name + ".sys.txt"), template.render(CONVERSATION, true));
        assertEquals(golden(name + ".nosys.txt"), template.render(CONVERSATION.subList(1, CONVERSATION.size()), true));
    }

    @Test
    void foldsTheSystemMessageIntoTheFirstTurnWhenTheTemplateHasNoSystemRole() throws IOException {
        // Gemma 2 raises 'System role not supported'; llama-server prepends the system text to the
        // first user turn instead. Expected: llama.cpp's test-chat-template.cpp for gemma-7b-it, plus BOS.
        ChatTemplate gemma = referenceTemplate("google-gemma-2-2b-it");
        assertFalse(gemma.supportsSystemRole());
        assertEquals("<s><start_of_turn>user\nYou are a helpful assistant\nHello<end_of_turn>\n"
                        + "<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n"
                        + "<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n"
                        + "<start_of_turn>model\n",
                gemma.render(CONVERSATION, true));
    }

    @Test
    void addsTheGenerationPromptOnlyWhenAsked() throws IOException {
        ChatTemplate qwen = referenceTemplate("Qwen-Qwen2.5-7B-Instruct");
        String prompt = qwen.render(CONVERSATION, true);
        assertTrue(prompt.endsWith("<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n"));
        assertEquals(prompt.substring(0, prompt.length() - "<|im_start|>assistant\n".length()), qwen.render(CONVERSATION, false));

        ChatTemplate llama = referenceTemplate("meta-llama-Llama-3.2-3B-Instruct");
        assertTrue(llama.render(CONVERSATION, true).endsWith("Another question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
        assertTrue(llama.render(CONVERSATION, false).endsWith("Another question<|eot_id|>"));
    }

    @Test
    void surfacesTheTemplatesOwnException() throws IOException {
        ChatTemplate gemma = referenceTemplate("google-gemma-2-2b-it");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> gemma.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), true));
        assertEquals(ChatTemplateException.Reason.REJECTED, e.reason());
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", e.getMessage());

        ChatTemplate nemo = referenceTemplate("mistralai-Mistral-Nemo-Instruct-2407");
        e = assertThrows(ChatTemplateException.class,
                () -> nemo.render(List.of(ChatMessage.user("a"), ChatMessage.assistant("b"), ChatMessage.system("late")), true));
        assertEquals(ChatTemplateException.Reason.REJECTED, e.reason());
        assertTrue(e.getMessage().startsWith("After the optional system message, conversation roles must alternate"), e.getMessage());
    }

    @Test
    void usesTheTemplateInTheGgufAndEncodesItsSpecialTokens() {
        try (Tokenizer qwen = Tokenizer.open(TestModels.llamaCppVocab("ggml-vocab-qwen2.gguf"))) {
            ChatTemplate template = ChatTemplate.forTokenizer(qwen);
            assertEquals(ChatTemplate.Kind.JINJA, template.kind());
            String prompt = template.render(List.of(ChatMessage.user("Hi")), true);
            assertEquals("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n"
                    + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", prompt);
            int[] tokens = qwen.encode(prompt, true, true);
            assertEquals("<|im_start|>", qwen.tokenText(tokens[0]));
            assertEquals("<|im_start|>", qwen.tokenText(tokens[tokens.length - 3]));
        }
    }

    @Test
    void dropsTheBosTextWhenTheTokenizerAddsBos() {
        // Phi-3's GGUF template starts with {{ bos_token }} and has no system role; with BOS removed
        // the prompt is exactly llama.cpp's expectation for Phi-3-mini in test-chat-template.cpp.
        try (Tokenizer phi3 = Tokenizer.open(TestModels.llamaCppVocab("ggml-vocab-phi-3.gguf"))) {
            assertTrue(phi3.addsBos());
            ChatTemplate template = ChatTemplate.forTokenizer(phi3);
            assertFalse(template.supportsSystemRole());
            assertEquals("<|user|>\nYou are a helpful assistant\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n"
                            + "<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n"
                            + "<|user|>\nAnother question<|end|>\n<|assistant|>\n",
                    template.render(CONVERSATION, true));
            int[] tokens = phi3.encode(template.render(CONVERSATION, true), true, true);
            assertEquals(phi3.bos(), tokens[0]);
            assertTrue(tokens[1] != phi3.bos(), "BOS twice");
        }
        ChatTemplate keeps = ChatTemplate.of("{{ bos_token }}x{{ eos_token }}", new ChatTemplate.SpecialTokens("<s>", "</s>", false, false));
        assertEquals("<s>x</s>", keeps.render(CONVERSATION, true));
        ChatTemplate drops = ChatTemplate.of("{{ bos_token }}x{{ eos_token }}", new ChatTemplate.SpecialTokens("<s>", "</s>", true, true));
        assertEquals("x", drops.render(CONVERSATION, true));
    }

    @Test
    void fallsBackToChatMlWhenTheModelHasNoTemplate() {
        try (Tokenizer spm = Tokenizer.open(TestModels.llamaCppVocab("ggml-vocab-llama-spm.gguf"))) {
            assertTrue(spm.chatTemplate().isEmpty());
            ChatTemplate template = ChatTemplate.forTokenizer(spm);
            assertTrue(template.isFallback());
            assertEquals(ChatTemplate.Kind.CHATML_DEFAULT, template.kind());
            List<ChatMessage> chat = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi"));
            assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                    template.render(chat, true));
            assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
                    template.render(chat, false));
        }
    }

    @Test
    void fallsBackToLibllamaWhenJinjavaCannotParseTheTemplate() {
        // llama.cpp's "Llama-3" case with its index test written as a chained comparison, valid
        // Jinja2 that Jinjava cannot parse. libllama recognises the Llama 3 markers; expected is
        // test-chat-template.cpp's output for its built-in llama3 format.
        String template = "{% set loop_messages = messages %}{% for message in loop_messages %}"
                + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
                + "{% if 0 <= loop.index0 < 1 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
                + "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}";
        ChatTemplate llama3 = ChatTemplate.of(template, ChatTemplate.SpecialTokens.NONE);
        assertEquals(ChatTemplate.Kind.LLAMA_BUILTIN, llama3.kind());
        assertEquals("<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                llama3.render(CONVERSATION, true));
    }

    @Test
    void fallsBackToLibllamaForAConversationJinjavaCannotRender() {
        // ChatML that takes a path only long conversations reach, with a chained comparison there:
        // the load-time probe passes, a six-turn chat needs libllama's chatml.
        String template = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
                + "{% if messages|length > 4 %}{% if 0 < 1 < 2 %}{% endif %}{% endif %}"
                + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        ChatTemplate chatMl = ChatTemplate.of(template, ChatTemplate.SpecialTokens.NONE);
        assertEquals(ChatTemplate.Kind.JINJA, chatMl.kind());
        assertEquals(ChatTemplate.chatMl(ChatTemplate.SpecialTokens.NONE).render(CONVERSATION, true),
                chatMl.render(CONVERSATION, true));
    }

    @Test
    void namesTheProblemWhenNothingCanRenderTheTemplate() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("{% for m in messages %}{% if 0 < 1 < 2 %}{{ m.content }}{% endif %}{% endfor %}", TOKENS));
        assertEquals(ChatTemplateException.Reason.UNSUPPORTED, e.reason());
        assertTrue(e.getMessage().contains("Jinjava cannot render this chat template"), e.getMessage());
        assertTrue(e.getMessage().contains("libllama recognises none of its built-in formats"), e.getMessage());
    }

    @Test
    void acceptsLibllamaBuiltinNames() {
        ChatTemplate llama3 = ChatTemplate.of("llama3", TOKENS);
        assertEquals(ChatTemplate.Kind.LLAMA_BUILTIN, llama3.kind());
        assertEquals("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                llama3.render(List.of(ChatMessage.user("Hi")), true));
    }

    @Test
    void mapsTheDeveloperRoleToSystemUnlessTheTemplateKnowsIt() throws IOException {
        List<ChatMessage> chat = List.of(new ChatMessage("developer", "Rules."), ChatMessage.user("Hi"));
        assertTrue(referenceTemplate("Qwen-Qwen2.5-7B-Instruct").render(chat, false)
                .startsWith("<|im_start|>system\nRules.<|im_end|>\n"));
        ChatTemplate knowsDeveloper = ChatTemplate.of(
                "{% for m in messages %}[{{ m.role }}]{% endfor %}{# handles the developer role #}", TOKENS);
        assertEquals("[developer][user]", knowsDeveloper.render(chat, false));
    }

    @Test
    void boundsRenderTimeAndOutputPerConversation() {
        // Loops only for long conversations, so loading the template succeeds.
        String slow = "{% if messages|length > 4 %}{% for i in range(100000) %}{% for j in range(100000) %}{{ '' }}{% endfor %}{% endfor %}{% endif %}ok";
        ChatTemplate.Limits limits = new ChatTemplate.Limits(Duration.ofMillis(200), 10_000, 100_000, 32);
        ChatTemplate template = ChatTemplate.of(slow, TOKENS, limits, Clock.systemUTC());
        assertEquals(ChatTemplateException.Reason.LIMIT,
                assertThrows(ChatTemplateException.class, () -> template.render(CONVERSATION, true)).reason());

        ChatTemplate echo = ChatTemplate.of("{% for m in messages %}{{ m.content }}{% endfor %}", TOKENS, limits, Clock.systemUTC());
        assertEquals("short", echo.render(List.of(ChatMessage.user("short")), true));
        assertEquals(ChatTemplateException.Reason.LIMIT, assertThrows(ChatTemplateException.class,
                () -> echo.render(List.of(ChatMessage.user("x".repeat(20_000))), true)).reason());
    }

    @Test
    void rendersConcurrently() throws Exception {
        ChatTemplate template = referenceTemplate("Qwen-Qwen3-0.6B");
        String expected = template.render(CONVERSATION, true);
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<String>> renders = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                renders.add(pool.submit(() -> template.render(CONVERSATION, true)));
            }
            for (Future<String> render : renders) {
                assertEquals(expected, render.get());
            }
        }
    }

    @Test
    void validatesMessages() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> new ChatMessage("narrator", "x"));
        assertThrows(NullPointerException.class, () -> new ChatMessage("user", null));
        ChatTemplate qwen = referenceTemplate("Qwen-Qwen2.5-7B-Instruct");
        assertThrows(IllegalArgumentException.class, () -> qwen.render(List.of(), true));
    }

    private static ChatTemplate referenceTemplate(String name) throws IOException {
        String source = Files.readString(NativeBuild.sourceDir().resolve("models/templates/" + name + ".jinja"));
        return ChatTemplate.of(source, TOKENS, ChatTemplate.Limits.DEFAULT, ChatTemplateGoldenTest.SCRIPT_CLOCK);
    }

    private static String golden(String file) throws IOException {
        try (var in = ChatTemplateTest.class.getResourceAsStream("golden/" + file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
