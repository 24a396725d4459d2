package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.responses.FunctionTool;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseFormatTextJsonSchemaConfig;
import com.openai.models.responses.ResponseFunctionToolCall;
import com.openai.models.responses.ResponseInputItem;
import com.openai.models.responses.ResponseOutputItem;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import com.openai.models.responses.ResponseTextConfig;
import com.openai.models.responses.ToolChoiceFunction;
import com.openai.models.responses.ToolChoiceOptions;
import dev.sluice.bindings.NativeBuild;
import dev.sluice.engine.Engine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Responses API through OpenAI's Java SDK against a real server: the tiny random-weight
 * Qwen2 model with Qwen2.5-Instruct's chat template (it renders tools and writes Hermes
 * {@code <tool_call>} blocks). Random weights write gibberish, so calls and JSON that come back
 * well-formed come from the grammars; greedy runs are deterministic, so texts are compared with
 * chat completions' and between streamed and not.
 */
class ResponsesSdkTest {

    static final String WEATHER_SCHEMA = """
            {"type": "object", "properties": {
              "city": {"type": "string", "enum": ["Paris", "Tokyo", "Lima"]},
              "days": {"type": "integer", "minimum": 1, "maximum": 7}},
             "required": ["city", "days"], "additionalProperties": false}""";

    private static TestServer server;
    private static OpenAIClient client;
    private static Schema weather;

    @BeforeAll
    static void start() throws IOException {
        String qwen = Files.readString(NativeBuild.sourceDir().resolve("models/templates/Qwen-Qwen2.5-7B-Instruct.jinja"));
        ServerConfig config = TestServer.config("--http-idle-timeout", "600");
        server = TestServer.startWith(config, () -> Engine.load(Main.engineOptions(config).withChatTemplate(qwen)), true);
        client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("x").maxRetries(0)
                .timeout(Duration.ofMinutes(2)).build();
        weather = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(TestServer.parse(WEATHER_SCHEMA));
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

    private static ResponseCreateParams.Builder greedy(String input, long maxTokens) {
        return ResponseCreateParams.builder().model(TestServer.MODEL).input(input).temperature(0.0).maxOutputTokens(maxTokens);
    }

    private static FunctionTool weatherTool() {
        FunctionTool.Parameters.Builder parameters = FunctionTool.Parameters.builder();
        TestServer.parse(WEATHER_SCHEMA).properties().forEach(e -> parameters.putAdditionalProperty(e.getKey(), JsonValue.fromJsonNode(e.getValue())));
        return FunctionTool.builder().name("get_weather").description("The weather forecast.").parameters(parameters.build())
                .strict(true).build();
    }

    /** The text of a response's message items. */
    private static String text(Response r) {
        StringBuilder out = new StringBuilder();
        for (ResponseOutputItem item : r.output()) {
            if (item.isMessage()) {
                item.asMessage().content().forEach(c -> out.append(c.asOutputText().text()));
            }
        }
        return out.toString();
    }

    /** The event's type, as the SDK parsed it (an event it could not place fails). */
    private static String type(ResponseStreamEvent e) {
        if (e.isCreated()) return "response.created";
        if (e.isInProgress()) return "response.in_progress";
        if (e.isOutputItemAdded()) return "response.output_item.added";
        if (e.isContentPartAdded()) return "response.content_part.added";
        if (e.isOutputTextDelta()) return "response.output_text.delta";
        if (e.isOutputTextDone()) return "response.output_text.done";
        if (e.isContentPartDone()) return "response.content_part.done";
        if (e.isFunctionCallArgumentsDelta()) return "response.function_call_arguments.delta";
        if (e.isFunctionCallArgumentsDone()) return "response.function_call_arguments.done";
        if (e.isOutputItemDone()) return "response.output_item.done";
        if (e.isCompleted()) return "response.completed";
        if (e.isIncomplete()) return "response.incomplete";
        if (e.isFailed()) return "response.failed";
        throw new AssertionError("unexpected event " + e);
    }

    private static long sequenceNumber(ResponseStreamEvent e) {
        if (e.isCreated()) return e.asCreated().sequenceNumber();
        if (e.isInProgress()) return e.asInProgress().sequenceNumber();
        if (e.isOutputItemAdded()) return e.asOutputItemAdded().sequenceNumber();
        if (e.isContentPartAdded()) return e.asContentPartAdded().sequenceNumber();
        if (e.isOutputTextDelta()) return e.asOutputTextDelta().sequenceNumber();
        if (e.isOutputTextDone()) return e.asOutputTextDone().sequenceNumber();
        if (e.isContentPartDone()) return e.asContentPartDone().sequenceNumber();
        if (e.isFunctionCallArgumentsDelta()) return e.asFunctionCallArgumentsDelta().sequenceNumber();
        if (e.isFunctionCallArgumentsDone()) return e.asFunctionCallArgumentsDone().sequenceNumber();
        if (e.isOutputItemDone()) return e.asOutputItemDone().sequenceNumber();
        if (e.isCompleted()) return e.asCompleted().sequenceNumber();
        if (e.isIncomplete()) return e.asIncomplete().sequenceNumber();
        return e.asFailed().sequenceNumber();
    }

    @Test
    void plainResponseEqualsChatCompletionsUnderGreedy() {
        Response r = client.responses().create(greedy("Tell me a story.", 24).instructions("Be brief.").build());
        assertTrue(r.id().startsWith("resp_"), r.id());
        assertEquals(1, r.output().size());
        assertTrue(r.output().getFirst().isMessage());
        var usage = r.usage().orElseThrow();
        if (r.status().orElseThrow().equals(ResponseStatus.INCOMPLETE)) { // random weights seldom end by themselves
            assertEquals("max_output_tokens", r.incompleteDetails().orElseThrow().reason().orElseThrow().asString());
            assertEquals(24, usage.outputTokens());
        } else {
            assertEquals(ResponseStatus.COMPLETED, r.status().orElseThrow());
            assertTrue(r.incompleteDetails().isEmpty());
        }
        assertEquals(usage.inputTokens() + usage.outputTokens(), usage.totalTokens());
        assertEquals(0, usage.outputTokensDetails().reasoningTokens());
        assertEquals(24L, r.maxOutputTokens().orElseThrow());
        assertEquals("Be brief.", r.instructions().orElseThrow().asString());

        var chat = client.chat().completions().create(ChatCompletionCreateParams.builder().model(TestServer.MODEL)
                .addSystemMessage("Be brief.").addUserMessage("Tell me a story.").temperature(0.0).maxCompletionTokens(24).build());
        assertEquals(chat.choices().getFirst().message().content().orElseThrow(), text(r));
        assertEquals(chat.usage().orElseThrow().promptTokens(), usage.inputTokens());
    }

    @Test
    void streamSendsEveryEventInOrderAndTheSameTextAsABody() {
        ResponseCreateParams params = greedy("Write a poem about rivers.", 20).build();
        Response body = client.responses().create(params);
        String expected = text(body);
        String terminal = body.status().orElseThrow().equals(ResponseStatus.INCOMPLETE) ? "response.incomplete" : "response.completed";
        List<String> types = new ArrayList<>();
        StringBuilder deltas = new StringBuilder();
        String doneText = null;
        Response completed = null;
        long sequence = 0;
        try (StreamResponse<ResponseStreamEvent> stream = client.responses().createStreaming(params)) {
            for (ResponseStreamEvent e : (Iterable<ResponseStreamEvent>) stream.stream()::iterator) {
                String type = type(e);
                assertEquals(sequence++, sequenceNumber(e), type);
                if (types.isEmpty() || !types.getLast().equals(type)) {
                    types.add(type);
                }
                if (e.isOutputTextDelta()) {
                    deltas.append(e.asOutputTextDelta().delta());
                    assertEquals(0, e.asOutputTextDelta().outputIndex());
                } else if (e.isOutputTextDone()) {
                    doneText = e.asOutputTextDone().text();
                } else if (e.isIncomplete()) {
                    completed = e.asIncomplete().response();
                } else if (e.isCompleted()) {
                    completed = e.asCompleted().response();
                } else if (e.isCreated()) {
                    assertEquals(ResponseStatus.IN_PROGRESS, e.asCreated().response().status().orElseThrow());
                }
            }
        }
        assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
                "response.content_part.added", "response.output_text.delta", "response.output_text.done",
                "response.content_part.done", "response.output_item.done", terminal), types);
        assertEquals(expected, deltas.toString());
        assertEquals(expected, doneText);
        assertEquals(expected, text(completed));
        assertEquals(body.usage().orElseThrow().outputTokens(), completed.usage().orElseThrow().outputTokens());
    }

    @Test
    void functionCallRoundTripContinuesFromThePreviousResponseWithItsKvCached() {
        Response first = client.responses().create(ResponseCreateParams.builder().model(TestServer.MODEL)
                .instructions("You are a weather assistant. Use the tools you are given.")
                .input("What is the weather in Paris for the next 3 days?")
                .addTool(weatherTool()).toolChoice(ToolChoiceFunction.builder().name("get_weather").build())
                .temperature(0.0).maxOutputTokens(200).build());
        assertEquals(ResponseStatus.COMPLETED, first.status().orElseThrow());
        assertEquals(1, first.output().size(), first.output()::toString);
        ResponseFunctionToolCall call = first.output().getFirst().asFunctionCall();
        assertEquals("get_weather", call.name());
        assertTrue(call.callId().startsWith("call_"), call.callId());
        assertTrue(call.id().orElseThrow().startsWith("fc_"));
        assertEquals(List.of(), weather.validate(TestServer.parse(call.arguments())), call.arguments());

        Response second = client.responses().create(ResponseCreateParams.builder().model(TestServer.MODEL)
                .previousResponseId(first.id())
                .inputOfResponse(List.of(ResponseInputItem.ofFunctionCallOutput(ResponseInputItem.FunctionCallOutput.builder()
                        .callId(call.callId()).output("{\"forecast\": \"sunny\", \"high_c\": 24}").build())))
                .addTool(weatherTool()).toolChoice(ToolChoiceOptions.NONE)
                .temperature(0.0).maxOutputTokens(16).build());
        assertEquals(first.id(), second.previousResponseId().orElseThrow());
        assertEquals(1, second.output().size());
        assertTrue(second.output().getFirst().isMessage(), "tool_choice none answers in text");
        var usage = second.usage().orElseThrow();
        assertTrue(usage.inputTokens() > first.usage().orElseThrow().inputTokens());
        // The first turn's prompt is the start of the second's: its KV comes from the prefix cache.
        assertTrue(usage.inputTokensDetails().cachedTokens() >= 16, usage::toString);
    }

    @Test
    void sendingTheHistoryAsItemsEqualsContinuingThePreviousResponse() {
        String instructions = "You are a weather assistant.";
        String question = "Weather in Tokyo for 2 days?";
        Response first = client.responses().create(ResponseCreateParams.builder().model(TestServer.MODEL)
                .instructions(instructions).input(question).addTool(weatherTool()).toolChoice(ToolChoiceOptions.REQUIRED)
                .parallelToolCalls(false).temperature(0.0).maxOutputTokens(200).build());
        ResponseFunctionToolCall call = first.output().getFirst().asFunctionCall();
        ResponseInputItem result = ResponseInputItem.ofFunctionCallOutput(ResponseInputItem.FunctionCallOutput.builder()
                .callId(call.callId()).output("rain").build());
        ResponseCreateParams.Builder next = ResponseCreateParams.builder().model(TestServer.MODEL).instructions(instructions)
                .addTool(weatherTool()).toolChoice(ToolChoiceOptions.NONE).temperature(0.0).maxOutputTokens(12);
        Response continued = client.responses().create(next.previousResponseId(first.id()).inputOfResponse(List.of(result)).build());
        // What a client with store: false sends (Codex): the whole conversation, the model's call included.
        Response stateless = client.responses().create(next.previousResponseId(java.util.Optional.empty()).store(false)
                .inputOfResponse(List.of(ResponseInputItem.ofEasyInputMessage(com.openai.models.responses.EasyInputMessage.builder()
                                .role(com.openai.models.responses.EasyInputMessage.Role.USER).content(question).build()),
                        ResponseInputItem.ofFunctionCall(call), result)).build());
        assertEquals(continued.usage().orElseThrow().inputTokens(), stateless.usage().orElseThrow().inputTokens());
        assertEquals(text(continued), text(stateless));
        assertTrue(stateless.usage().orElseThrow().inputTokensDetails().cachedTokens() > 0);
    }

    @Test
    void streamedFunctionCallSendsItsArgumentsEvents() {
        ResponseCreateParams params = ResponseCreateParams.builder().model(TestServer.MODEL)
                .input("Weather in Lima for a week?").addTool(weatherTool()).toolChoice(ToolChoiceOptions.REQUIRED)
                .parallelToolCalls(false).temperature(0.0).maxOutputTokens(200).build();
        Response body = client.responses().create(params);
        ResponseFunctionToolCall expected = body.output().getFirst().asFunctionCall();
        List<String> types = new ArrayList<>();
        StringBuilder arguments = new StringBuilder();
        String done = null;
        Response completed = null;
        try (StreamResponse<ResponseStreamEvent> stream = client.responses().createStreaming(params)) {
            for (ResponseStreamEvent e : (Iterable<ResponseStreamEvent>) stream.stream()::iterator) {
                String type = type(e);
                if (types.isEmpty() || !types.getLast().equals(type)) {
                    types.add(type);
                }
                if (e.isFunctionCallArgumentsDelta()) {
                    arguments.append(e.asFunctionCallArgumentsDelta().delta());
                } else if (e.isFunctionCallArgumentsDone()) {
                    done = e.asFunctionCallArgumentsDone().arguments();
                } else if (e.isOutputItemAdded()) {
                    assertEquals("get_weather", e.asOutputItemAdded().item().asFunctionCall().name());
                } else if (e.isCompleted()) {
                    completed = e.asCompleted().response();
                }
            }
        }
        assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
                "response.function_call_arguments.delta", "response.function_call_arguments.done",
                "response.output_item.done", "response.completed"), types);
        assertEquals(expected.arguments(), arguments.toString());
        assertEquals(expected.arguments(), done);
        assertEquals(expected.arguments(), completed.output().getFirst().asFunctionCall().arguments());
        assertEquals(List.of(), weather.validate(TestServer.parse(done)), done);
    }

    @Test
    void jsonSchemaFormatGivesValidJson() {
        ResponseFormatTextJsonSchemaConfig.Schema.Builder schema = ResponseFormatTextJsonSchemaConfig.Schema.builder();
        TestServer.parse(WEATHER_SCHEMA).properties().forEach(e -> schema.putAdditionalProperty(e.getKey(), JsonValue.fromJsonNode(e.getValue())));
        for (long seed = 0; seed < 2; seed++) {
            Response r = client.responses().create(ResponseCreateParams.builder().model(TestServer.MODEL)
                    .input("Forecast please.").temperature(1.0).maxOutputTokens(200)
                    .putAdditionalBodyProperty("seed", JsonValue.from(seed))
                    .text(ResponseTextConfig.builder().format(ResponseFormatTextJsonSchemaConfig.builder()
                            .name("forecast").schema(schema.build()).strict(true).build()).build()).build());
            assertEquals(ResponseStatus.COMPLETED, r.status().orElseThrow());
            JsonNode json = TestServer.parse(text(r));
            assertEquals(List.of(), weather.validate(json), text(r));
            assertEquals("json_schema", r.text().orElseThrow().format().orElseThrow().asJsonSchema()._type().asString().orElseThrow());
        }
    }

    @Test
    void storedResponsesCanBeReadListedAndDeleted() {
        Response r = client.responses().create(greedy("Remember this.", 8).build());
        Response got = client.responses().retrieve(r.id());
        assertEquals(r.id(), got.id());
        assertEquals(text(r), text(got));
        var items = client.responses().inputItems().list(r.id());
        assertEquals(1, items.data().size());
        assertTrue(items.data().getFirst().isResponseInputMessageItem());

        client.responses().delete(r.id());
        assertThrows(NotFoundException.class, () -> client.responses().retrieve(r.id()));
        assertThrows(NotFoundException.class, () -> client.responses().delete(r.id()));
        assertThrows(NotFoundException.class, () -> client.responses().retrieve("resp_doesnotexist"));

        Response unstored = client.responses().create(greedy("Forget this.", 4).store(false).build());
        assertThrows(NotFoundException.class, () -> client.responses().retrieve(unstored.id()));
        assertThrows(NotFoundException.class, () -> client.responses().create(greedy("Go on.", 4)
                .previousResponseId(unstored.id()).build()));
    }

    @Test
    void cancelStopsARunningResponse() {
        ResponseCreateParams params = greedy("Go on for a long time.", 900).build();
        Response cancelled = null;
        String terminal = null;
        try (StreamResponse<ResponseStreamEvent> stream = client.responses().createStreaming(params)) {
            String id = null;
            for (ResponseStreamEvent e : (Iterable<ResponseStreamEvent>) stream.stream()::iterator) {
                if (e.isCreated()) {
                    id = e.asCreated().response().id();
                } else if (e.isOutputTextDelta() && cancelled == null) {
                    cancelled = client.responses().cancel(id);
                } else if (e.isIncomplete() || e.isCompleted()) {
                    terminal = e.isIncomplete() ? e.asIncomplete().response().status().orElseThrow().asString() : "completed";
                }
            }
        }
        assertEquals(ResponseStatus.CANCELLED, cancelled.status().orElseThrow());
        assertTrue(cancelled.usage().orElseThrow().outputTokens() < 900);
        assertEquals("cancelled", terminal);
        assertEquals(ResponseStatus.CANCELLED, client.responses().retrieve(cancelled.id()).status().orElseThrow());
    }
}
