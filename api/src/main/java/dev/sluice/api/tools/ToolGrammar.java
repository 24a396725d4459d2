package dev.sluice.api.tools;

import dev.sluice.api.http.ApiException;
import dev.sluice.api.structured.InvalidSchemaException;
import dev.sluice.api.structured.JsonSchemaGrammar;
import dev.sluice.api.structured.UnsupportedSchemaException;

import java.util.ArrayList;
import java.util.List;

/**
 * The GBNF grammar that forces a reply to be tool calls ({@code tool_choice: "required"} or a
 * named function): the format's wrapper around {@code {"name": "f", "arguments": …}} objects
 * whose arguments follow each function's parameters schema ({@link JsonSchemaGrammar}). The
 * wrapper is spelled exactly as the chat template writes calls (same spaces and newlines), so the
 * model's own habits fit it and the parser reads it back.
 */
final class ToolGrammar {

    private ToolGrammar() {
    }

    /**
     * @param offered  every tool of the request (their positions name the parameters in errors)
     * @param callable the tools the reply may call (all of them, or the named one)
     * @param parallel whether several calls may follow each other
     * @throws ApiException 400 naming {@code tools[i].function.parameters} for a schema the
     *                      compiler cannot enforce or that is not valid
     */
    static String build(ToolFormat format, List<ToolDefinition> offered, List<ToolDefinition> callable, boolean parallel,
                        boolean legacy) {
        StringBuilder rules = new StringBuilder();
        List<String> alternatives = new ArrayList<>();
        String argumentsKey = format == ToolFormat.LLAMA3 ? "parameters" : "arguments";
        for (ToolDefinition tool : callable) {
            int index = offered.indexOf(tool);
            String rule = "args-" + index;
            rules.append(parameters(tool, rule, index, legacy)).append('\n');
            alternatives.add(literal("{\"name\": \"" + tool.name() + "\", \"" + argumentsKey + "\": ") + " " + rule + " "
                    + literal("}"));
        }
        rules.append("call ::= ").append(String.join(" | ", alternatives.stream().map(a -> "( " + a + " )").toList()))
                .append('\n');
        String root = switch (format) {
            case HERMES, GENERIC -> {
                String block = literal("<tool_call>\n") + " call " + literal("\n</tool_call>");
                yield parallel ? block + " ( " + literal("\n") + " " + block + " )*" : block;
            }
            case MISTRAL -> literal("[TOOL_CALLS][") + " call" + (parallel ? " ( " + literal(", ") + " call )*" : "")
                    + " " + literal("]");
            case LLAMA3 -> "call";
        };
        return "root ::= " + root + "\n" + rules;
    }

    private static String parameters(ToolDefinition tool, String rule, int index, boolean legacy) {
        String param = legacy ? "functions[" + index + "].parameters" : "tools[" + index + "].function.parameters";
        try {
            return JsonSchemaGrammar.compile(tool.parameters(), rule);
        } catch (UnsupportedSchemaException e) {
            throw ApiException.invalid(param, "The parameters schema of function '" + tool.name() + "' cannot be "
                    + "enforced: '" + e.keyword() + "' at '" + e.path() + "': " + e.getMessage());
        } catch (InvalidSchemaException e) {
            throw ApiException.invalid(param, "Invalid parameters schema for function '" + tool.name() + "' at '"
                    + e.path() + "': " + e.getMessage());
        }
    }

    /** A GBNF string literal. */
    static String literal(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
