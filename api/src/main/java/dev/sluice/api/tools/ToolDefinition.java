package dev.sluice.api.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Objects;

/**
 * One function a request offers the model ({@code tools[i].function}, or a legacy
 * {@code functions[i]}).
 *
 * @param description what it does, or null
 * @param parameters  the JSON schema of its arguments (an object schema; {@code {"type":
 *                    "object", "properties": {}}} when the client gave none, as OpenAI assumes)
 * @param strict      the client asked for its schema to be followed exactly (Sluice enforces a
 *                    schema whenever it constrains a call, strict or not)
 */
public record ToolDefinition(String name, String description, ObjectNode parameters, boolean strict) {

    public ToolDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(parameters, "parameters");
    }
}
