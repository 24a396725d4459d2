package dev.sluice.scheduler;

import java.util.Locale;

/** Why a sequence stopped; {@link #openAiName()} is the API's {@code finish_reason}. */
public enum FinishReason {
    /** An end-of-generation token, a stop token or a stop string. */
    STOP,
    /** {@code max_tokens} reached, or the model's context is full. */
    LENGTH,
    /** The client went away, stopped reading, or the request was cancelled. */
    CANCELLED,
    /**
     * The request ran past its deadline ({@code --request-timeout}): reported as {@code length},
     * since like {@code max_tokens} a limit cut the output short.
     */
    TIMEOUT,
    /** The engine failed while running it. */
    ERROR,
    /**
     * The model stopped after calling tools. Never reported by the scheduler: the API sets it
     * for a choice whose output it parsed into tool calls (a {@code STOP} otherwise).
     */
    TOOL_CALLS,
    /** {@link #TOOL_CALLS} for a request that used the legacy {@code functions}. */
    FUNCTION_CALL;

    public String openAiName() {
        return switch (this) {
            case STOP -> "stop";
            case LENGTH -> "length";
            case CANCELLED -> "abort";
            case TIMEOUT -> "length";
            case ERROR -> "error";
            case TOOL_CALLS -> "tool_calls";
            case FUNCTION_CALL -> "function_call";
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
