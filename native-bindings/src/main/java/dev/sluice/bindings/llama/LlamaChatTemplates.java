package dev.sluice.bindings.llama;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeLibraries;
import dev.sluice.bindings.NativeStrings;
import dev.sluice.bindings.raw.llama_chat_message;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * libllama's built-in chat formats ({@code llama_chat_apply_template}): a fixed list of formats
 * written in C++, chosen by name ({@code "chatml"}, {@code "llama3"}, …) or by recognising marker
 * strings in a Jinja template's source. No Jinja is evaluated. Stateless and thread-safe.
 */
public final class LlamaChatTemplates {

    private LlamaChatTemplates() {
    }

    /** One chat turn as libllama sees it. Text containing NUL is cut at the NUL (C strings). */
    public record Message(String role, String content) {
        public Message {
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(content, "content");
        }
    }

    /** The names libllama accepts as a template, e.g. {@code chatml}, {@code llama3}, {@code gemma}. */
    public static List<String> builtinNames() {
        NativeLibraries.ensureLoaded();
        int count = llama_cpp.llama_chat_builtin_templates(MemorySegment.NULL, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment names = arena.allocate(ValueLayout.ADDRESS, count);
            int n = llama_cpp.llama_chat_builtin_templates(names, count);
            List<String> result = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                result.add(NativeStrings.read(names.getAtIndex(ValueLayout.ADDRESS, i)));
            }
            return List.copyOf(result);
        }
    }

    /**
     * Formats {@code messages} with the built-in format that libllama picks for {@code template}
     * (a built-in name or a Jinja source it recognises).
     *
     * @param addAssistantPrompt  end with the text that opens an assistant turn
     * @return the prompt, or empty when libllama recognises no format in {@code template}
     */
    public static Optional<String> apply(String template, List<Message> messages, boolean addAssistantPrompt) {
        Objects.requireNonNull(template, "template");
        NativeLibraries.ensureLoaded();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment chat = llama_chat_message.allocateArray(Math.max(1, messages.size()), arena);
            long textBytes = 0;
            for (int i = 0; i < messages.size(); i++) {
                Message message = messages.get(i);
                MemorySegment entry = llama_chat_message.asSlice(chat, i);
                MemorySegment content = arena.allocateFrom(message.content());
                llama_chat_message.role(entry, arena.allocateFrom(message.role()));
                llama_chat_message.content(entry, content);
                textBytes += content.byteSize();
            }
            MemorySegment tmpl = arena.allocateFrom(template);
            // The recommended first guess; the call reports the real size when it is too small.
            int capacity = (int) Math.min(Integer.MAX_VALUE - 1, 2 * textBytes + 256);
            MemorySegment buf = arena.allocate(capacity);
            int n = llama_cpp.llama_chat_apply_template(tmpl, chat, messages.size(), addAssistantPrompt, buf, capacity);
            if (n < 0) {
                return Optional.empty();
            }
            if (n > capacity) {
                capacity = n;
                buf = arena.allocate(capacity);
                n = llama_cpp.llama_chat_apply_template(tmpl, chat, messages.size(), addAssistantPrompt, buf, capacity);
                if (n < 0 || n > capacity) {
                    throw new NativeException("llama_chat_apply_template failed (" + n + ")");
                }
            }
            return Optional.of(new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
        }
    }
}
