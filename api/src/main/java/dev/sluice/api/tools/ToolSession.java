package dev.sluice.api.tools;

import dev.sluice.api.http.ApiException;
import dev.sluice.api.structured.InvalidSchemaException;
import dev.sluice.api.structured.JsonSchemaGrammar;
import dev.sluice.api.structured.UnsupportedSchemaException;
import dev.sluice.engine.chat.ChatTemplate;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Tool use for one chat request on one model: what goes into the prompt, the grammar that forces
 * calls when the client demands them, and how the reply is read.
 *
 * <ul>
 *   <li>{@code none}: the tools are still rendered (as llama-server and vLLM do: the model knows
 *       them and the conversation's earlier calls make sense) but the reply is plain text, unparsed.
 *   <li>{@code auto}: rendered; the reply is parsed. Free text until the model opens a call; for
 *       formats whose calls open with a marker ({@code <tool_call>}: Hermes, Qwen, the generic
 *       polyfill) a lazy grammar then holds the call to the offered tools' schemas
 *       ({@link #autoGrammar()}).
 *   <li>{@code required} / a named function: rendered, and a grammar forces one call (several
 *       when {@code parallel_tool_calls} and the format allow) of an offered (or the named)
 *       function whose arguments follow its parameters schema.
 * </ul>
 */
public final class ToolSession {

    private final ToolRequest request;
    private final ToolFormat format;
    private final boolean parallel;
    private final List<Map<String, Object>> templateTools;

    private ToolSession(ToolRequest request, ToolFormat format, boolean parallel) {
        this.request = request;
        this.format = format;
        this.parallel = parallel;
        this.templateTools = TemplateValues.tools(request.tools());
    }

    /**
     * Validates the request's tools against what the model's template can express.
     *
     * @throws ApiException 400 ({@code parallel_tool_calls}) when the client asks for parallel
     *                      calls from a format that allows one call per turn (Llama 3); 400 on a
     *                      parameters schema that is not valid
     */
    public static ToolSession of(ToolRequest request, ChatTemplate template) {
        ToolFormat format = ToolFormat.detect(template);
        if (request.active() && request.parallelExplicit() && request.parallel() && !format.parallel()) {
            throw ApiException.invalid("parallel_tool_calls", "This model's chat template (tool-call format "
                    + format.name().toLowerCase(java.util.Locale.ROOT) + ") expresses one tool call per turn; "
                    + "set parallel_tool_calls to false or leave it out.");
        }
        for (int i = 0; i < request.tools().size(); i++) {
            checkSchema(request, i);
        }
        return new ToolSession(request, format, request.parallel() && format.parallel());
    }

    /** Refuses a schema that is not valid; one the compiler cannot enforce only matters when enforced. */
    private static void checkSchema(ToolRequest request, int i) {
        ToolDefinition tool = request.tools().get(i);
        try {
            JsonSchemaGrammar.compile(tool.parameters(), "probe");
        } catch (InvalidSchemaException e) {
            String param = request.legacy() ? "functions[" + i + "].parameters" : "tools[" + i + "].function.parameters";
            throw ApiException.invalid(param, "Invalid parameters schema for function '" + tool.name() + "' at '"
                    + e.path() + "': " + e.getMessage());
        } catch (UnsupportedSchemaException e) {
            // enforced only for forced choices: ToolGrammar refuses it then
        }
    }

    public ToolFormat format() {
        return format;
    }

    /** The tools for the template (empty when none were offered). */
    public List<Map<String, Object>> templateTools() {
        return templateTools;
    }

    /** Whether the reply is read for calls. */
    public boolean parses() {
        return request.active();
    }

    /** The request used {@code functions}: the reply has {@code function_call}, not {@code tool_calls}. */
    public boolean legacy() {
        return request.legacy();
    }

    /** The grammar that forces calls, for {@code required} and named choices. */
    public Optional<String> grammar() {
        ToolChoice choice = request.choice();
        if (!choice.forced()) {
            return Optional.empty();
        }
        List<ToolDefinition> callable = choice.mode() == ToolChoice.Mode.NAMED
                ? request.tools().stream().filter(t -> t.name().equals(choice.function())).toList()
                : request.tools();
        // The legacy function_call answers with one call; so does a named choice (OpenAI's).
        boolean several = parallel && !request.legacy() && choice.mode() == ToolChoice.Mode.REQUIRED;
        return Optional.of(ToolGrammar.build(format, request.tools(), callable, several, request.legacy()));
    }

    /**
     * For {@code auto}: the grammar that applies from a call's opening on, with what opens it as
     * its triggers ({@code <tool_call>}, {@code [TOOL_CALLS]}, Llama 3's bare {@code {"name"}); empty
     * when a parameters schema has a keyword the compiler cannot enforce (auto then stays
     * unconstrained, its calls only parsed).
     */
    public Optional<LazyGrammar> autoGrammar() {
        if (request.choice().mode() != ToolChoice.Mode.AUTO || request.tools().isEmpty()) {
            return Optional.empty();
        }
        // Llama 3 writes a custom tool's call as a bare object that opens with {"name": the call's own start.
        // Mistral's [TOOL_CALLS] is a control token: the engine's lazy grammar triggers on its id.
        List<String> triggers = switch (format) {
            case HERMES, GENERIC, MISTRAL -> format.triggers();
            case LLAMA3 -> List.of("{\"name\"");
        };
        try {
            String gbnf = ToolGrammar.build(format, request.tools(), request.tools(), parallel && !request.legacy(),
                    request.legacy());
            return Optional.of(new LazyGrammar(gbnf, triggers));
        } catch (ApiException e) {
            return Optional.empty(); // a schema the compiler cannot enforce: refused only where calls are forced
        }
    }

    /** A grammar that applies from the first of its triggers in the output on. */
    public record LazyGrammar(String gbnf, List<String> triggers) {
    }

    /**
     * Most calls a reply returns: one for {@code parallel_tool_calls: false}, a format with one
     * call per turn, a named choice or the legacy {@code function_call}; the grammar keeps forced
     * replies to it, and under {@code auto} calls past it are dropped.
     */
    public int maxCalls() {
        return parallel && !request.legacy() && request.choice().mode() != ToolChoice.Mode.NAMED ? Integer.MAX_VALUE : 1;
    }

    public ToolCallParser newParser() {
        return new ToolCallParser(format);
    }
}
