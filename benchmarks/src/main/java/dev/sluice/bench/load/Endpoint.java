package dev.sluice.bench.load;

import com.fasterxml.jackson.databind.JsonNode;

/** The two OpenAI streaming endpoints the generator drives, and where each puts generated text. */
enum Endpoint {
    COMPLETIONS("completions", "/v1/completions"),
    CHAT("chat", "/v1/chat/completions");

    private final String cliName;
    private final String path;

    Endpoint(String cliName, String path) {
        this.cliName = cliName;
        this.path = path;
    }

    String cliName() {
        return cliName;
    }

    String path() {
        return path;
    }

    /**
     * The text a streamed choice carries: {@code text} for completions, {@code delta.content} for
     * chat. A reasoning model's {@code delta.reasoning_content} counts too: it is generated output.
     */
    String content(JsonNode choice) {
        if (this == COMPLETIONS) {
            return choice.path("text").asText("");
        }
        JsonNode delta = choice.path("delta");
        return delta.path("content").asText("") + delta.path("reasoning_content").asText("");
    }

    static Endpoint fromCliName(String name) throws UsageException {
        for (Endpoint endpoint : values()) {
            if (endpoint.cliName.equals(name)) {
                return endpoint;
            }
        }
        throw new UsageException("--endpoint must be completions or chat, got '" + name + "'");
    }
}
