package dev.sluice.api.tools;

/**
 * What {@code tool_choice} (or the legacy {@code function_call}) asks of the model.
 *
 * @param function the one function it must call when {@link Mode#NAMED}, else null
 */
public record ToolChoice(Mode mode, String function) {

    public enum Mode {
        /** No tool is offered or called: the prompt does not list them, the output is text. */
        NONE,
        /** The model decides between text and calls. */
        AUTO,
        /** The model must call one or more tools. */
        REQUIRED,
        /** The model must call {@link #function}. */
        NAMED
    }

    public static final ToolChoice NONE = new ToolChoice(Mode.NONE, null);
    public static final ToolChoice AUTO = new ToolChoice(Mode.AUTO, null);
    public static final ToolChoice REQUIRED = new ToolChoice(Mode.REQUIRED, null);

    public static ToolChoice named(String function) {
        return new ToolChoice(Mode.NAMED, function);
    }

    /** The output must be tool calls (a grammar enforces them). */
    public boolean forced() {
        return mode == Mode.REQUIRED || mode == Mode.NAMED;
    }
}
