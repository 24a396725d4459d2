package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.sluice.bindings.NativeBuild;
import dev.sluice.engine.Engine;
import dev.sluice.engine.chat.ChatMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tool calling through OpenAI's Java SDK against a real server: the tiny random-weight Qwen2 model
 * (Qwen's real tokenizer) with Qwen2.5-Instruct's chat template, which renders tools and writes
 * Hermes {@code <tool_call>} blocks. Random weights at temperature 1 write gibberish, so every
 * call that comes back well-formed and valid against its schema comes from the grammar.
 */
class ToolCallingTest {

    static final String WEATHER_SCHEMA = """
            {"type": "object", "properties": {
              "city": {"type": "string", "enum": ["Paris", "Tokyo", "Lima"]},
              "days": {"type": "integer", "minimum": 1, "maximum": 7}},
             "required": ["city", "days"], "additionalProperties": false}""";
    static final String ADD_SCHEMA = """
            {"type": "object", "properties": {"a": {"type": "integer", "minimum": -99, "maximum": 99},
              "b": {"type": "boolean"}}, "required": ["a", "b"], "additionalProperties": false}""";

    private static TestServer server;
    private static OpenAIClient client;
    private static final Map<String, Schema> SCHEMAS = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws IOException {
        String qwen = Files.readString(NativeBuild.sourceDir().resolve("models/templates/Qwen-Qwen2.5-7B-Instruct.jinja"));
        // The SDK's connection pool reuses idle connections; the tests' long generations can leave one
        // idle past the default 10 s, and a request on a connection the server just closed fails.
        ServerConfig config = TestServer.config("--http-idle-timeout", "600");
        server = TestServer.startWith(config, () -> Engine.load(Main.engineOptions(config).withChatTemplate(qwen)), true);
        client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("x").maxRetries(0)
                .timeout(Duration.ofMinutes(2)).build();
        SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
        SCHEMAS.put("get_weather", registry.getSchema(TestServer.parse(WEATHER_SCHEMA)));
        SCHEMAS.put("add", registry.getSchema(TestServer.parse(ADD_SCHEMA)));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static FunctionDefinition function(String name, String schema) {
        FunctionParameters.Builder parameters = FunctionParameters.builder();
        TestServer.parse(schema).properties().forEach(e -> parameters.putAdditionalProperty(e.getKey(), JsonValue.fromJsonNode(e.getValue())));
        return FunctionDefinition.builder().name(name).description("A test function.").parameters(parameters.build()).build();
    }

    private static ChatCompletionCreateParams.Builder toolChat(long seed) {
        return ChatCompletionCreateParams.builder().model(TestServer.MODEL)
                .addSystemMessage("You are a helpful assistant.")
                .addUserMessage("What is the weather in Paris for 3 days? And add 2 and true.")
                .addFunctionTool(function("get_weather", WEATHER_SCHEMA))
                .addFunctionTool(function("add", ADD_SCHEMA))
                .temperature(1.0).seed(seed).maxCompletionTokens(400);
    }

    /** Name and arguments of each call; fails unless each is an offered function with valid arguments. */
    private static List<String> validCalls(List<ChatCompletionMessageToolCall> calls) {
        List<String> out = new ArrayList<>();
        for (ChatCompletionMessageToolCall call : calls) {
            ChatCompletionMessageFunctionToolCall f = call.asFunction();
            assertTrue(f.id().startsWith("call_"), f.id());
            Schema schema = SCHEMAS.get(f.function().name());
            assertTrue(schema != null, "unknown function " + f.function().name());
            JsonNode arguments = TestServer.parse(f.function().arguments());
            assertEquals(List.of(), schema.validate(arguments), f.function().arguments());
            out.add(f.function().name() + " " + f.function().arguments());
        }
        return out;
    }

    @Test
    void requiredReturnsValidCallsForSeveralSeeds() {
        for (long seed = 1; seed <= 3; seed++) {
            ChatCompletion completion = client.chat().completions().create(toolChat(seed)
                    .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).parallelToolCalls(false).build());
            ChatCompletion.Choice choice = completion.choices().getFirst();
            assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason(), "seed " + seed);
            List<String> calls = validCalls(choice.message().toolCalls().orElseThrow());
            assertEquals(1, calls.size(), calls::toString);
            assertTrue(choice.message().content().isEmpty(), "no text around forced calls");
        }
    }

    @Test
    void aNamedFunctionIsTheOneCalled() {
        for (long seed = 1; seed <= 2; seed++) {
            ChatCompletion completion = client.chat().completions().create(toolChat(seed)
                    .toolChoice(ChatCompletionNamedToolChoice.builder()
                            .function(ChatCompletionNamedToolChoice.Function.builder().name("add").build()).build())
                    .build());
            List<String> calls = validCalls(completion.choices().getFirst().message().toolCalls().orElseThrow());
            assertEquals(1, calls.size(), calls::toString);
            assertTrue(calls.getFirst().startsWith("add "), calls::toString);
        }
    }

    @Test
    void parallelCallsAreAllValid() {
        ChatCompletion completion = client.chat().completions().create(toolChat(11)
                .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).maxCompletionTokens(700).build());
        ChatCompletion.Choice choice = completion.choices().getFirst();
        List<String> calls = validCalls(choice.message().toolCalls().orElseThrow());
        assertFalse(calls.isEmpty());
        if (choice.finishReason() == ChatCompletion.Choice.FinishReason.TOOL_CALLS) {
            assertEquals(choice.message().toolCalls().orElseThrow().size(), calls.size());
        }
    }

    @Test
    void aStreamAssemblesToTheSameCalls() {
        for (long seed = 1; seed <= 2; seed++) {
            ChatCompletionCreateParams params = toolChat(seed).toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED)
                    .parallelToolCalls(false).build();
            ChatCompletion whole = client.chat().completions().create(params);
            List<String> expected = validCalls(whole.choices().getFirst().message().toolCalls().orElseThrow());

            List<String> names = new ArrayList<>();
            List<StringBuilder> arguments = new ArrayList<>();
            StringBuilder content = new StringBuilder();
            List<ChatCompletionChunk.Choice.FinishReason> finishes = new ArrayList<>();
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
                stream.stream().forEach(chunk -> chunk.choices().forEach(c -> {
                    c.delta().content().ifPresent(content::append);
                    c.finishReason().ifPresent(finishes::add);
                    for (ChatCompletionChunk.Choice.Delta.ToolCall call : c.delta().toolCalls().orElse(List.of())) {
                        int index = (int) call.index();
                        if (call.id().isPresent()) {
                            // The first delta of a call: id, type, name, empty arguments.
                            assertEquals(names.size(), index);
                            assertTrue(call.id().get().startsWith("call_"));
                            assertEquals("", call.function().orElseThrow().arguments().orElseThrow());
                            names.add(call.function().orElseThrow().name().orElseThrow());
                            arguments.add(new StringBuilder());
                        } else {
                            assertTrue(call.function().orElseThrow().name().isEmpty());
                            arguments.get(index).append(call.function().orElseThrow().arguments().orElseThrow());
                        }
                    }
                }));
            }
            List<String> streamed = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                streamed.add(names.get(i) + " " + arguments.get(i));
            }
            assertEquals(expected, streamed, "seed " + seed);
            assertEquals("", content.toString(), "no markup leaks into content");
            assertEquals(List.of(ChatCompletionChunk.Choice.FinishReason.TOOL_CALLS), finishes);
        }
    }

    @Test
    void aToolRoundTripRendersAndCompletes() {
        ChatCompletion first = client.chat().completions().create(toolChat(5)
                .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).parallelToolCalls(false).build());
        ChatCompletionMessage assistant = first.choices().getFirst().message();
        ChatCompletionMessageFunctionToolCall call = assistant.toolCalls().orElseThrow().getFirst().asFunction();
        ChatCompletionCreateParams followUp = toolChat(5)
                .addMessage(assistant)
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("{\"result\": 42}").build())
                .toolChoice(ChatCompletionToolChoiceOption.Auto.AUTO).maxCompletionTokens(8).build();
        ChatCompletion second = client.chat().completions().create(followUp);
        assertTrue(second.choices().getFirst().finishReason() != null);

        // The server rendered the call and its result as the template does: its prompt is this many tokens.
        var engine = server.version().ready().engine();
        List<ChatMessage> conversation = List.of(
                ChatMessage.system("You are a helpful assistant."),
                ChatMessage.user("What is the weather in Paris for 3 days? And add 2 and true."),
                new ChatMessage("assistant", "", List.of(new ChatMessage.ToolCall(call.id(), call.function().name(),
                        call.function().arguments(), objectOf(call.function().arguments()))), null, null),
                new ChatMessage("tool", "{\"result\": 42}", List.of(), call.id(), null));
        String prompt = engine.chatTemplate().render(conversation, toolsForTemplate(), true);
        assertTrue(prompt.contains("<tool_response>\n{\"result\": 42}\n</tool_response>"), prompt);
        assertTrue(prompt.contains("<tool_call>\n{\"name\": \"" + call.function().name() + "\", \"arguments\": "), prompt);
        assertEquals(engine.tokenizer().encode(prompt, true, true).length, second.usage().orElseThrow().promptTokens());
    }

    @Test
    void autoStreamsTextAndParsesTheSameAsABody() {
        ChatCompletionCreateParams params = toolChat(3).toolChoice(ChatCompletionToolChoiceOption.Auto.AUTO)
                .maxCompletionTokens(24).build();
        ChatCompletion whole = client.chat().completions().create(params);
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> c.delta().content().ifPresent(streamed::append)));
        }
        assertEquals(whole.choices().getFirst().message().content().orElse(""), streamed.toString());
    }

    @Test
    void legacyFunctionsAnswerWithFunctionCall() {
        JsonNode body = server.postOk("/v1/chat/completions", Map.of(
                "messages", List.of(Map.of("role", "user", "content", "Add 1 and false.")),
                "functions", List.of(Map.of("name", "add", "parameters", TestServer.parse(ADD_SCHEMA))),
                "function_call", Map.of("name", "add"), "seed", 2, "max_tokens", 400));
        JsonNode choice = body.get("choices").get(0);
        assertEquals("function_call", choice.get("finish_reason").textValue(), body::toString);
        JsonNode call = choice.get("message").get("function_call");
        assertEquals("add", call.get("name").textValue());
        assertEquals(List.of(), SCHEMAS.get("add").validate(TestServer.parse(call.get("arguments").textValue())));
        assertFalse(choice.get("message").has("tool_calls"));
    }

    @Test
    void aSchemaThatCannotBeEnforcedIsA400NamingTheTool() {
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.chat().completions().create(
                ChatCompletionCreateParams.builder().model(TestServer.MODEL).addUserMessage("x")
                        .addFunctionTool(function("get_weather", WEATHER_SCHEMA))
                        .addFunctionTool(function("odd", "{\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"array\","
                                + " \"uniqueItems\": true}}}"))
                        .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build()));
        assertEquals("tools[1].function.parameters", e.param().orElseThrow());
        assertTrue(e.getMessage().contains("uniqueItems"), e.getMessage());
    }

    private static List<Map<String, Object>> toolsForTemplate() {
        List<Map<String, Object>> tools = new ArrayList<>();
        for (String[] f : List.of(new String[] {"get_weather", WEATHER_SCHEMA}, new String[] {"add", ADD_SCHEMA})) {
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", f[0]);
            function.put("description", "A test function.");
            function.put("parameters", objectOf(f[1]));
            Map<String, Object> tool = new LinkedHashMap<>(); // key order is what tojson writes
            tool.put("type", "function");
            tool.put("function", function);
            tools.add(tool);
        }
        return tools;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> objectOf(String json) {
        try {
            return TestServer.MAPPER.readValue(json, LinkedHashMap.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
