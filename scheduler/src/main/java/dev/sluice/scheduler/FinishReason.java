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
    ERROR;

    public String openAiName() {
        return switch (this) {
            case STOP -> "stop";
            case LENGTH -> "length";
            case CANCELLED -> "abort";
            case TIMEOUT -> "length";
            case ERROR -> "error";
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
