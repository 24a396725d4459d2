package dev.sluice.engine.chat;

import java.util.Objects;
import java.util.Set;

/**
 * One turn of a chat conversation, as OpenAI's chat API sends it.
 *
 * @param role     {@code system}, {@code developer}, {@code user}, {@code assistant} or {@code tool}
 * @param content  the turn's text
 */
public record ChatMessage(String role, String content) {

    public static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("unknown chat role '" + role + "' (expected one of system, developer, user, assistant, tool)");
        }
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
}
