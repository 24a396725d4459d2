package dev.sluice.engine.chat;

/** A chat template could not turn a conversation into a prompt; the message says why. */
public final class ChatTemplateException extends RuntimeException {

    /** Why rendering failed, which decides who is to blame. */
    public enum Reason {
        /** The template rejected the conversation ({@code raise_exception}): the client's request is at fault. */
        REJECTED,
        /** Neither Jinjava nor libllama's built-in formats can render the template: the model's template is. */
        UNSUPPORTED,
        /** Rendering ran past a time or size limit. */
        LIMIT
    }

    private final Reason reason;

    public ChatTemplateException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
