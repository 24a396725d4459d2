package dev.sluice.engine.chat;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One turn of a chat conversation, as OpenAI's chat API sends it.
 *
 * @param role       {@code system}, {@code developer}, {@code user}, {@code assistant} or {@code tool}
 * @param content    the turn's text; empty for an assistant turn that only calls tools (as
 *                   llama.cpp passes it: Qwen3's and other templates fail on a null content)
 * @param toolCalls  the tools an assistant turn called (empty otherwise)
 * @param toolCallId the call a {@code tool} turn answers, or null
 * @param name       the function a {@code tool} turn answers (OpenAI's legacy {@code function} role), or null
 */
public record ChatMessage(String role, String content, List<ToolCall> toolCalls, String toolCallId, String name) {

    public static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    /**
     * One call of a function in an assistant turn.
     *
     * @param arguments       the arguments as the client sent them: a JSON string
     * @param argumentsObject the same arguments parsed into template values (a map), or null when
     *                        they are not a JSON object; templates that write {@code arguments | tojson}
     *                        need this form
     */
    public record ToolCall(String id, String name, String arguments, Object argumentsObject) {
        public ToolCall {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(arguments, "arguments");
        }
    }

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        toolCalls = List.copyOf(Objects.requireNonNull(toolCalls, "toolCalls"));
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("unknown chat role '" + role + "' (expected one of system, developer, user, assistant, tool)");
        }
    }

    public ChatMessage(String role, String content) {
        this(role, content, List.of(), null, null);
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    /** A copy with other text, keeping the tool fields. */
    public ChatMessage withContent(String text) {
        return new ChatMessage(role, text, toolCalls, toolCallId, name);
    }
}
