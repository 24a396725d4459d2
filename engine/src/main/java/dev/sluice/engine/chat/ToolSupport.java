package dev.sluice.engine.chat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What a chat template does with tool use, found by rendering probes when it is loaded (as
 * llama.cpp's minja probes a template's capabilities), and the polyfill for what it does not do.
 *
 * <ul>
 *   <li>{@code tools}: it renders the {@code tools} variable (the function definitions);
 *   <li>{@code toolCalls}: it renders an assistant turn's {@code tool_calls};
 *   <li>{@code objectArguments}: it wants {@code function.arguments} as an object (Hugging Face's
 *       convention: Qwen2.5 and Llama 3.1 write {@code arguments | tojson}); else as the JSON
 *       string OpenAI clients send (DeepSeek's templates concatenate it as a string);
 *   <li>{@code toolResponses}: it renders {@code role: "tool"} turns.
 * </ul>
 *
 * <p>For what a template lacks, {@link #polyfill} writes it into the conversation in the Hermes
 * format that most open models are tuned on: the tool list and the calling convention into the
 * system message, calls as {@code <tool_call>{"name": …, "arguments": …}</tool_call>} in the
 * assistant's text, results as {@code <tool_response>…</tool_response>} in a user turn.
 */
public record ToolSupport(boolean tools, boolean toolCalls, boolean objectArguments, boolean toolResponses) {

    /** A template that knows nothing of tools (libllama's built-in formats, the ChatML default). */
    public static final ToolSupport NONE = new ToolSupport(false, false, true, false);

    private static final String PROBE_TOOL = "sluice_probe_tool";
    private static final String PROBE_CALL = "sluice_probe_call";
    private static final String PROBE_RESULT = "sluice-probe-result";
    /** Nine alphanumerics: Mistral's templates refuse other call ids. */
    private static final String PROBE_ID = "probe0001";
    private static final String PROBE_ARGUMENTS = "{\"probe_arg\": \"probe-value-1\"}";

    /** Probes a template through {@code render} (variables without the special tokens; errors count as "no"). */
    static ToolSupport probe(Function<Map<String, Object>, String> render) {
        boolean tools = renders(render, toolProbe(), PROBE_TOOL);
        boolean objects = rendersObjectArguments(render);
        boolean strings = !objects && renders(render, callProbe(false), PROBE_CALL);
        boolean calls = objects || strings;
        boolean responses = renders(render, callProbe(objects || !strings), PROBE_RESULT);
        return new ToolSupport(tools, calls, objects || !strings, responses);
    }

    /** The object form works when the value appears, and neither as a re-escaped string nor as a Java or Python map's text. */
    private static boolean rendersObjectArguments(Function<Map<String, Object>, String> render) {
        try {
            String out = render.apply(callProbe(true));
            return out.contains("probe-value-1") && !out.contains("\\\"probe_arg")
                    && !out.contains("{probe_arg=probe-value-1}") && !out.contains("{'probe_arg': 'probe-value-1'}");
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static boolean renders(Function<Map<String, Object>, String> render, Map<String, Object> variables,
                                   String expected) {
        try {
            return render.apply(variables).contains(expected);
        } catch (RuntimeException e) {
            return false; // the template refuses the probe: treat the feature as missing
        }
    }

    private static Map<String, Object> toolProbe() {
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("type", "object");
        parameters.put("properties", Map.of("probe_arg", Map.of("type", "string")));
        parameters.put("required", List.of("probe_arg"));
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", PROBE_TOOL);
        function.put("description", "A probe.");
        function.put("parameters", parameters);
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", function);
        Map<String, Object> variables = new LinkedHashMap<>();
        variables.put("messages", List.of(textTurn("user", "Hello")));
        variables.put("tools", List.of(tool));
        variables.put("add_generation_prompt", true);
        return variables;
    }

    private static Map<String, Object> callProbe(boolean objects) {
        Map<String, Object> arguments = new LinkedHashMap<>();
        arguments.put("probe_arg", "probe-value-1");
        ChatMessage.ToolCall call = new ChatMessage.ToolCall(PROBE_ID, PROBE_CALL, PROBE_ARGUMENTS, arguments);
        List<Map<String, Object>> turns = List.of(
                textTurn("user", "Hello"),
                turn(new ChatMessage("assistant", "", List.of(call), null, null), objects),
                turn(new ChatMessage("tool", PROBE_RESULT, List.of(), PROBE_ID, PROBE_CALL), objects),
                textTurn("assistant", "Done."),
                textTurn("user", "Thanks"));
        Map<String, Object> variables = new LinkedHashMap<>();
        variables.put("messages", turns);
        variables.put("add_generation_prompt", true);
        return variables;
    }

    private static Map<String, Object> textTurn(String role, String content) {
        Map<String, Object> turn = new LinkedHashMap<>();
        turn.put("role", role);
        turn.put("content", content);
        return turn;
    }

    /**
     * A message as templates see it: {@code role} and {@code content} always; {@code tool_calls}
     * (OpenAI's shape), {@code tool_call_id} and {@code name} only when set, since templates test
     * {@code message.tool_calls is defined}.
     */
    static Map<String, Object> turn(ChatMessage message, boolean objectArguments) {
        Map<String, Object> turn = textTurn(message.role(), message.content());
        if (!message.toolCalls().isEmpty()) {
            List<Map<String, Object>> calls = new ArrayList<>();
            for (ChatMessage.ToolCall call : message.toolCalls()) {
                Map<String, Object> function = new LinkedHashMap<>();
                function.put("name", call.name());
                function.put("arguments", objectArguments && call.argumentsObject() != null
                        ? call.argumentsObject() : call.arguments());
                Map<String, Object> c = new LinkedHashMap<>();
                if (call.id() != null) {
                    c.put("id", call.id());
                }
                c.put("type", "function");
                c.put("function", function);
                calls.add(c);
            }
            turn.put("tool_calls", calls);
        }
        if (message.toolCallId() != null) {
            turn.put("tool_call_id", message.toolCallId());
        }
        if (message.name() != null) {
            turn.put("name", message.name());
        }
        return turn;
    }

    /** Whether {@link #polyfill} writes anything into the system message for {@code tools}. */
    public boolean injectsTools(List<Map<String, Object>> offered) {
        return !tools && !offered.isEmpty();
    }

    /**
     * The conversation with what the template cannot render written in as text: the tool list
     * into the system message, tool calls into the assistant's text, tool results as user turns
     * (consecutive results in one turn, so templates that insist on alternating roles accept them).
     */
    List<ChatMessage> polyfill(List<ChatMessage> messages, List<Map<String, Object>> offered) {
        boolean injectTools = injectsTools(offered);
        boolean rewrite = injectTools || messages.stream().anyMatch(m ->
                (!toolCalls && !m.toolCalls().isEmpty()) || (!toolResponses && m.role().equals("tool")));
        if (!rewrite) {
            return messages;
        }
        List<ChatMessage> out = new ArrayList<>(messages.size() + 1);
        if (injectTools) {
            String instructions = toolInstructions(offered);
            ChatMessage first = messages.getFirst();
            if (first.role().equals("system") || first.role().equals("developer")) {
                out.add(first.withContent(first.content() + "\n\n" + instructions));
                messages = messages.subList(1, messages.size());
            } else {
                out.add(ChatMessage.system(instructions));
            }
        }
        for (ChatMessage m : messages) {
            if (!toolCalls && !m.toolCalls().isEmpty()) {
                StringBuilder text = new StringBuilder(m.content());
                for (ChatMessage.ToolCall call : m.toolCalls()) {
                    if (!text.isEmpty()) {
                        text.append('\n');
                    }
                    text.append("<tool_call>\n{\"name\": ").append(PythonJson.dumps(call.name()))
                            .append(", \"arguments\": ").append(call.arguments()).append("}\n</tool_call>");
                }
                out.add(new ChatMessage("assistant", text.toString()));
            } else if (!toolResponses && m.role().equals("tool")) {
                String response = "<tool_response>\n" + m.content() + "\n</tool_response>";
                ChatMessage last = out.isEmpty() ? null : out.getLast();
                if (last != null && last.role().equals("user") && last.content().endsWith("</tool_response>")) {
                    out.set(out.size() - 1, new ChatMessage("user", last.content() + "\n" + response));
                } else {
                    out.add(new ChatMessage("user", response));
                }
            } else {
                out.add(m);
            }
        }
        return out;
    }

    /** The tool list and the calling convention, as Qwen2.5's template words them. */
    static String toolInstructions(List<Map<String, Object>> offered) {
        StringBuilder text = new StringBuilder("# Tools\n\nYou may call one or more functions to assist with the user query."
                + "\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>");
        for (Map<String, Object> tool : offered) {
            text.append('\n').append(PythonJson.dumps(tool));
        }
        return text.append("\n</tools>\n\nFor each function call, return a json object with function name and arguments"
                + " within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\":"
                + " <args-json-object>}\n</tool_call>").toString();
    }
}
