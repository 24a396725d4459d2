package dev.sluice.bindings.llama;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlamaChatTemplatesTest {

    /** The conversation llama.cpp's tests/test-chat-template.cpp renders with every template. */
    private static final List<LlamaChatTemplates.Message> CONVERSATION = List.of(
            new LlamaChatTemplates.Message("system", "You are a helpful assistant"),
            new LlamaChatTemplates.Message("user", "Hello"),
            new LlamaChatTemplates.Message("assistant", "Hi there"),
            new LlamaChatTemplates.Message("user", "Who are you"),
            new LlamaChatTemplates.Message("assistant", "   I am an assistant   "),
            new LlamaChatTemplates.Message("user", "Another question"));

    @Test
    void listsTheBuiltinFormats() {
        List<String> names = LlamaChatTemplates.builtinNames();
        assertTrue(names.containsAll(List.of("chatml", "llama3", "gemma", "mistral-v7")), names::toString);
    }

    @Test
    void formatsByName() {
        assertEquals(Optional.of("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n"
                        + "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n"
                        + "<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n"
                        + "<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n"),
                LlamaChatTemplates.apply("chatml", CONVERSATION, true));
        assertEquals(Optional.of("<|im_start|>user\nHello<|im_end|>\n"),
                LlamaChatTemplates.apply("chatml", List.of(new LlamaChatTemplates.Message("user", "Hello")), false));
    }

    @Test
    void recognisesAJinjaSource() {
        // google/gemma-7b-it's template; llama.cpp's expected output folds the system turn into the first user turn.
        String gemma = "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
                + "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
                + "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
                + "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
                + "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";
        assertEquals(Optional.of("<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n"
                        + "<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n"
                        + "<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n"
                        + "<start_of_turn>model\n"),
                LlamaChatTemplates.apply(gemma, CONVERSATION, true));
    }

    @Test
    void saysWhenItRecognisesNothing() {
        assertEquals(Optional.empty(), LlamaChatTemplates.apply("INVALID TEMPLATE", CONVERSATION, true));
    }

    @Test
    void growsItsBufferForLongPrompts() {
        // Many short turns: the formatted prompt is far longer than the first buffer guess.
        List<LlamaChatTemplates.Message> turns = new ArrayList<>();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            String role = i % 2 == 0 ? "user" : "assistant";
            turns.add(new LlamaChatTemplates.Message(role, "ü"));
            expected.append("<|im_start|>").append(role).append("\nü<|im_end|>\n");
        }
        assertEquals(Optional.of(expected.toString()), LlamaChatTemplates.apply("chatml", turns, false));
    }
}
