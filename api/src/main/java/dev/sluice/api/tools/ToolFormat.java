package dev.sluice.api.tools;

import dev.sluice.engine.chat.ChatTemplate;

import java.util.List;

/**
 * How a model writes tool calls, detected from its chat template (what the template itself writes
 * for an assistant's {@code tool_calls} is what the model was trained to produce):
 *
 * <ul>
 *   <li>{@link #HERMES}: {@code <tool_call>{"name": …, "arguments": {…}}</tool_call>}, one block
 *       per call (Hermes 2 Pro / 3, Qwen2.5, Qwen3, QwQ, SmolLM3): the template writes {@code <tool_call>}.
 *   <li>{@link #LLAMA3}: a bare {@code {"name": …, "parameters": {…}}} object as the whole reply,
 *       or after {@code <|python_tag|>} (Llama 3.1, 3.2, 3.3): the template has {@code <|python_tag|>}
 *       or the {@code ipython} role. One call per turn: the templates raise on more.
 *   <li>{@link #MISTRAL}: {@code [TOOL_CALLS][{"name": …, "arguments": {…}}, …]} (Mistral Nemo,
 *       Small 3.1): the template writes {@code [TOOL_CALLS][}. Call ids are nine alphanumerics.
 *       {@code [TOOL_CALLS]} is a control token in Mistral's vocabularies, which the output text
 *       leaves out: a reply that starts with the list ({@code [{"name"…}) is calls too.
 *       (Mistral Small 3.2's {@code [TOOL_CALLS]name[ARGS]{…}} is not parsed yet: {@link #GENERIC}.)
 *   <li>{@link #GENERIC}: everything else, and every template that does not render tools (Sluice
 *       then writes the tools into the system message, asking for Hermes blocks): a
 *       {@code <tool_call>} block, or a bare JSON call object as the whole reply.
 * </ul>
 */
public enum ToolFormat {
    HERMES(List.of("<tool_call>"), false, true),
    LLAMA3(List.of("<|python_tag|>"), true, false),
    MISTRAL(List.of("[TOOL_CALLS]"), true, true),
    GENERIC(List.of("<tool_call>"), true, true);

    private final List<String> triggers;
    private final boolean bareJson;
    private final boolean parallel;

    ToolFormat(List<String> triggers, boolean bareJson, boolean parallel) {
        this.triggers = triggers;
        this.bareJson = bareJson;
        this.parallel = parallel;
    }

    public static ToolFormat detect(ChatTemplate template) {
        String source = template.source();
        if (source == null || !template.toolSupport().tools()) {
            return GENERIC;
        }
        if (source.contains("<tool_call>")) {
            return HERMES;
        }
        if (source.contains("[TOOL_CALLS][")) { // not the later [TOOL_CALLS]name[ARGS]{…} of Mistral Small 3.2
            return MISTRAL;
        }
        if (source.contains("<|python_tag|>") || (source.contains("<|start_header_id|>") && source.contains("ipython"))) {
            return LLAMA3;
        }
        return GENERIC;
    }

    /** The markers that open a call region. */
    List<String> triggers() {
        return triggers;
    }

    /** Whether a reply that starts with a JSON call object (whitespace aside; Mistral: a list of them) is a call. */
    boolean bareJson() {
        return bareJson;
    }

    /** Whether the format (and its template) can express several calls in one turn. */
    public boolean parallel() {
        return parallel;
    }

    /** The marker that closes a region ({@code </tool_call>}), or null when the JSON's end closes it. */
    String closer(String trigger) {
        return trigger.equals("<tool_call>") ? "</tool_call>" : null;
    }

    /** An id for a parsed call: Mistral's templates accept only nine alphanumerics. */
    String newCallId() {
        String id = dev.sluice.api.openai.Responses.newId("");
        return this == MISTRAL ? id.substring(0, 9) : "call_" + id;
    }
}
