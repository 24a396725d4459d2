package dev.sluice.api;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server through OpenAI's official Java SDK: what real clients see, parsed by OpenAI's own types. */
class OpenAiSdkTest {

    private static TestServer server;
    private static OpenAIClient client;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("x").maxRetries(0)
                .timeout(Duration.ofMinutes(2)).build();
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

    private static ChatCompletionCreateParams.Builder chat(String user) {
        return ChatCompletionCreateParams.builder().model(TestServer.MODEL).addUserMessage(user);
    }

    private static CompletionCreateParams.Builder completion(String prompt) {
        return CompletionCreateParams.builder().model(TestServer.MODEL).prompt(prompt);
    }

    /** A greedy chat that always runs {@code tokens} tokens. */
    private static ChatCompletionCreateParams greedyChat(String user, int tokens) {
        return chat(user).temperature(0.0).maxCompletionTokens(tokens)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build();
    }

    private static String streamedContent(ChatCompletionCreateParams params) {
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append)));
        }
        return text.toString();
    }

    // ---- chat ----------------------------------------------------------------------------------

    @Test
    void chatCompletion() {
        ChatCompletion response = client.chat().completions().create(greedyChat("Say hello.", 12));
        assertTrue(response.id().startsWith("chatcmpl-"), response.id());
        assertEquals(TestServer.MODEL, response.model());
        assertEquals(1, response.choices().size());
        ChatCompletion.Choice choice = response.choices().getFirst();
        assertEquals(0, choice.index());
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, choice.finishReason());
        assertFalse(choice.message().content().orElseThrow().isEmpty());
        assertTrue(choice.logprobs().isEmpty());
        CompletionUsage usage = response.usage().orElseThrow();
        assertEquals(12, usage.completionTokens());
        // ChatML: <|im_start|>user\nSay hello.<|im_end|>\n<|im_start|>assistant\n
        assertTrue(usage.promptTokens() > 8, "prompt tokens " + usage.promptTokens());
        assertEquals(usage.promptTokens() + usage.completionTokens(), usage.totalTokens());
    }

    @Test
    void chatStreamingMatchesTheNonStreamingResponse() {
        ChatCompletionCreateParams params = greedyChat("Tell me a story.", 20);
        String whole = client.chat().completions().create(params).choices().getFirst().message().content().orElseThrow();

        List<ChatCompletionChunk> chunks;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            chunks = stream.stream().toList();
        }
        assertTrue(chunks.size() >= 3, "chunks: " + chunks.size());
        String id = chunks.getFirst().id();
        StringBuilder text = new StringBuilder();
        int finishes = 0;
        for (ChatCompletionChunk chunk : chunks) {
            assertEquals(id, chunk.id(), "one id for the whole stream");
            assertEquals(TestServer.MODEL, chunk.model());
            assertTrue(chunk.usage().isEmpty(), "no usage unless asked");
            for (ChatCompletionChunk.Choice c : chunk.choices()) {
                assertEquals(0, c.index());
                c.delta().content().ifPresent(text::append);
                if (c.finishReason().isPresent()) {
                    finishes++;
                    assertEquals(ChatCompletionChunk.Choice.FinishReason.LENGTH, c.finishReason().get());
                }
            }
        }
        assertEquals(ChatCompletionChunk.Choice.Delta.Role.ASSISTANT,
                chunks.getFirst().choices().getFirst().delta().role().orElseThrow(), "the first chunk names the role");
        assertEquals(1, finishes, "exactly one finish_reason");
        assertTrue(chunks.getLast().choices().getFirst().finishReason().isPresent(), "finish_reason comes last");
        assertEquals(whole, text.toString());
    }

    @Test
    void chatWithTwoChoices() {
        // Once to cache the prompt, so that the two requests compared below both reuse it: the first
        // computes the prompt's last position in a batch of the whole prompt, a later one alone,
        // whose logits differ in the last bits, and on this random model's near-flat distribution
        // that moves a seeded draw (llama-server's cache_prompt has the same caveat).
        client.chat().completions().create(chat("Pick a number.").n(2).seed(7L).temperature(1.0).maxCompletionTokens(6).build());
        ChatCompletion response = client.chat().completions().create(chat("Pick a number.").n(2).seed(7L)
                .temperature(1.0).maxCompletionTokens(6).build());
        assertEquals(2, response.choices().size());
        assertEquals(0, response.choices().get(0).index());
        assertEquals(1, response.choices().get(1).index());
        assertTrue(response.usage().orElseThrow().completionTokens() <= 12);

        Map<Long, StringBuilder> texts = new HashMap<>();
        Map<Long, Integer> finishes = new HashMap<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(
                chat("Pick a number.").n(2).seed(7L).temperature(1.0).maxCompletionTokens(6).build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> {
                texts.computeIfAbsent(c.index(), i -> new StringBuilder()).append(c.delta().content().orElse(""));
                c.finishReason().ifPresent(f -> finishes.merge(c.index(), 1, Integer::sum));
            }));
        }
        assertEquals(Set.of(0L, 1L), texts.keySet());
        assertEquals(Map.of(0L, 1, 1L, 1), finishes);
        // Same seed, same request: the streamed choices equal the non-streamed ones.
        assertEquals(response.choices().get(0).message().content().orElse(""), texts.get(0L).toString());
        assertEquals(response.choices().get(1).message().content().orElse(""), texts.get(1L).toString());
    }

    @Test
    void chatStopStringTakenFromAGreedyOutput() {
        String greedy = client.chat().completions().create(greedyChat("Continue: one, two,", 24))
                .choices().getFirst().message().content().orElseThrow();
        String stop = middle(greedy);
        String expected = greedy.substring(0, greedy.indexOf(stop));

        ChatCompletion stopped = client.chat().completions().create(chat("Continue: one, two,").temperature(0.0)
                .maxCompletionTokens(24).stop(stop).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        ChatCompletion.Choice choice = stopped.choices().getFirst();
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, choice.finishReason());
        assertEquals(expected, choice.message().content().orElse(""));
        assertFalse(choice.message().content().orElse("").contains(stop));

        String streamed = streamedContent(chat("Continue: one, two,").temperature(0.0).maxCompletionTokens(24)
                .stop(stop).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        assertEquals(expected, streamed);
    }

    @Test
    void chatMaxTokensEndsWithLength() {
        ChatCompletion response = client.chat().completions().create(chat("Count.").temperature(0.7).seed(3L)
                .maxTokens(5L).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, response.choices().getFirst().finishReason());
        assertEquals(5, response.usage().orElseThrow().completionTokens());
    }

    @Test
    void chatSeedsReproduce() {
        String a = client.chat().completions().create(chat("Random words:").temperature(1.0).seed(1234L)
                .maxCompletionTokens(16).build()).choices().getFirst().message().content().orElse("");
        String b = client.chat().completions().create(chat("Random words:").temperature(1.0).seed(1234L)
                .maxCompletionTokens(16).build()).choices().getFirst().message().content().orElse("");
        assertEquals(a, b);
        Set<String> others = new TreeSet<>();
        for (long seed = 1; seed <= 3; seed++) {
            others.add(client.chat().completions().create(chat("Random words:").temperature(1.0).seed(seed)
                    .maxCompletionTokens(16).build()).choices().getFirst().message().content().orElse(""));
        }
        others.add(a);
        assertTrue(others.size() >= 3, "different seeds give different samples: " + others);
    }

    @Test
    void chatLogprobs() {
        ChatCompletion response = client.chat().completions().create(chat("Hi").temperature(1.0).seed(99L)
                .maxCompletionTokens(12).logprobs(true).topLogprobs(3L)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        ChatCompletion.Choice choice = response.choices().getFirst();
        List<ChatCompletionTokenLogprob> content = choice.logprobs().orElseThrow().content().orElseThrow();
        assertEquals(12, content.size(), "one entry per generated token");
        StringBuilder bytes = new StringBuilder();
        int chosenOutsideTop = 0;
        for (ChatCompletionTokenLogprob entry : content) {
            assertTrue(entry.logprob() <= 0, "logprob " + entry.logprob());
            assertEquals(3, entry.topLogprobs().size());
            double previous = 0;
            double sum = 0;
            boolean listed = false;
            for (ChatCompletionTokenLogprob.TopLogprob top : entry.topLogprobs()) {
                assertTrue(top.logprob() <= previous, "top_logprobs sorted, most likely first: " + entry.topLogprobs());
                previous = top.logprob();
                sum += Math.exp(top.logprob());
                assertFalse(top.bytes().orElseThrow().isEmpty());
                if (top.token().equals(entry.token())) {
                    listed = true;
                    assertEquals(entry.logprob(), top.logprob(), 1e-6);
                }
            }
            assertTrue(sum <= 1 + 1e-4, "probabilities sum to at most 1: " + sum);
            double third = entry.topLogprobs().getLast().logprob();
            if (entry.logprob() > third + 1e-6) {
                assertTrue(listed, "a token more likely than the third listed is listed: " + entry);
            } else if (!listed) {
                chosenOutsideTop++;
            }
            for (long b : entry.bytes().orElseThrow()) {
                bytes.append((char) b);
            }
        }
        assertTrue(chosenOutsideTop <= content.size());
        // The tokens' bytes spell the message.
        String text = choice.message().content().orElseThrow();
        assertEquals(text, new String(bytes.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1),
                java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void chatStreamWithUsage() {
        List<ChatCompletionChunk> chunks;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(chat("Hi")
                .temperature(0.0).maxCompletionTokens(7).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true))
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            chunks = stream.stream().toList();
        }
        ChatCompletionChunk last = chunks.getLast();
        assertTrue(last.choices().isEmpty(), "the usage chunk has no choices");
        CompletionUsage usage = last.usage().orElseThrow();
        assertEquals(7, usage.completionTokens());
        assertTrue(usage.promptTokens() > 0);
        assertEquals(usage.promptTokens() + 7, usage.totalTokens());
        for (ChatCompletionChunk chunk : chunks.subList(0, chunks.size() - 1)) {
            assertTrue(chunk.usage().isEmpty(), "only the last chunk has usage");
            assertEquals(1, chunk.choices().size());
        }
    }

    // ---- completions -----------------------------------------------------------------------------

    @Test
    void completion() {
        Completion response = client.completions().create(completion("Once upon a time").temperature(0.0).maxTokens(10)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        assertTrue(response.id().startsWith("cmpl-"), response.id());
        assertEquals(TestServer.MODEL, response.model());
        CompletionChoice choice = response.choices().getFirst();
        assertEquals(0, choice.index());
        assertEquals(CompletionChoice.FinishReason.LENGTH, choice.finishReason());
        assertFalse(choice.text().isEmpty());
        assertEquals(10, response.usage().orElseThrow().completionTokens());
        assertEquals(4, response.usage().orElseThrow().promptTokens(), "'Once upon a time' is 4 Qwen2 tokens");

        StringBuilder streamed = new StringBuilder();
        List<Completion> chunks;
        try (StreamResponse<Completion> stream = client.completions().createStreaming(completion("Once upon a time")
                .temperature(0.0).maxTokens(10).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build())) {
            chunks = stream.stream().toList();
        }
        for (Completion chunk : chunks) {
            assertEquals(chunks.getFirst().id(), chunk.id());
            chunk.choices().forEach(c -> streamed.append(c.text()));
        }
        assertEquals(choice.text(), streamed.toString());
        assertEquals(CompletionChoice.FinishReason.LENGTH, chunks.getLast().choices().getFirst().finishReason());
    }

    @Test
    void completionWithTwoChoicesAndEcho() {
        // Once to cache the prompt, so that both requests compared below reuse it (as chatWithTwoChoices)
        client.completions().create(completion("Numbers:").n(2).seed(11L).temperature(1.0).maxTokens(5).echo(true).build());
        Completion response = client.completions().create(completion("Numbers:").n(2).seed(11L).temperature(1.0)
                .maxTokens(5).echo(true).build());
        assertEquals(2, response.choices().size());
        for (int i = 0; i < 2; i++) {
            assertEquals(i, response.choices().get(i).index());
            assertTrue(response.choices().get(i).text().startsWith("Numbers:"), response.choices().get(i).text());
        }
        Map<Long, StringBuilder> texts = new HashMap<>();
        try (StreamResponse<Completion> stream = client.completions().createStreaming(completion("Numbers:").n(2)
                .seed(11L).temperature(1.0).maxTokens(5).echo(true).build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(
                    c -> texts.computeIfAbsent(c.index(), i -> new StringBuilder()).append(c.text())));
        }
        assertEquals(Set.of(0L, 1L), texts.keySet());
        assertEquals(response.choices().get(0).text(), texts.get(0L).toString());
        assertEquals(response.choices().get(1).text(), texts.get(1L).toString());
    }

    @Test
    void completionStopStringTakenFromAGreedyOutput() {
        String greedy = client.completions().create(completion("The list:").temperature(0.0).maxTokens(24)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build()).choices().getFirst().text();
        String stop = middle(greedy);
        String expected = greedy.substring(0, greedy.indexOf(stop));
        CompletionChoice choice = client.completions().create(completion("The list:").temperature(0.0).maxTokens(24)
                .stopOfStrings(List.of("never-in-this-output", stop)).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true))
                .build()).choices().getFirst();
        assertEquals(CompletionChoice.FinishReason.STOP, choice.finishReason());
        assertEquals(expected, choice.text());
    }

    @Test
    void completionSeedsAndMaxTokens() {
        CompletionCreateParams params = completion("Seeded:").temperature(1.0).seed(42L).maxTokens(9)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build();
        Completion a = client.completions().create(params);
        Completion b = client.completions().create(params);
        assertEquals(a.choices().getFirst().text(), b.choices().getFirst().text());
        assertEquals(9, a.usage().orElseThrow().completionTokens());
        assertEquals(CompletionChoice.FinishReason.LENGTH, a.choices().getFirst().finishReason());
        Completion c = client.completions().create(completion("Seeded:").temperature(1.0).seed(43L).maxTokens(9)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        assertNotEquals(a.choices().getFirst().text(), c.choices().getFirst().text());
    }

    @Test
    void completionLogprobs() {
        Completion response = client.completions().create(completion("Hello").temperature(0.0).maxTokens(6).logprobs(2)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        CompletionChoice.Logprobs logprobs = response.choices().getFirst().logprobs().orElseThrow();
        List<String> tokens = logprobs.tokens().orElseThrow();
        List<Double> values = logprobs.tokenLogprobs().orElseThrow();
        List<Long> offsets = logprobs.textOffset().orElseThrow();
        assertEquals(6, tokens.size());
        assertEquals(6, values.size());
        assertEquals(6, logprobs.topLogprobs().orElseThrow().size());
        assertEquals(0, offsets.getFirst());
        for (int i = 0; i < tokens.size(); i++) {
            assertTrue(values.get(i) <= 0);
            if (i > 0) {
                assertEquals(offsets.get(i - 1) + tokens.get(i - 1).length(), offsets.get(i));
            }
            Map<String, JsonValue> top = logprobs.topLogprobs().orElseThrow().get(i)._additionalProperties();
            assertTrue(top.size() <= 2 && !top.isEmpty(), "top " + top);
            // Greedy: the chosen token is the most likely one, so it is listed.
            assertTrue(top.containsKey(tokens.get(i)), tokens.get(i) + " in " + top);
        }
    }

    @Test
    void completionStreamWithUsage() {
        List<Completion> chunks = new ArrayList<>();
        try (StreamResponse<Completion> stream = client.completions().createStreaming(completion("Usage")
                .temperature(0.0).maxTokens(4).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true))
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            stream.stream().forEach(chunks::add);
        }
        Completion last = chunks.getLast();
        assertTrue(last.choices().isEmpty());
        assertEquals(4, last.usage().orElseThrow().completionTokens());
        assertEquals(1, last.usage().orElseThrow().promptTokens());
    }

    // ---- errors --------------------------------------------------------------------------------

    @Test
    void badRequestsNameTheParameter() {
        BadRequestException e = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat("Hi").temperature(3.5).build()));
        assertEquals(400, e.statusCode());
        assertEquals("temperature", e.param().orElseThrow());
        assertEquals("invalid_request_error", e.type().orElseThrow());

        e = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat("Hi").topLogprobs(3L).build()));
        assertEquals("top_logprobs", e.param().orElseThrow());

        e = assertThrows(BadRequestException.class,
                () -> client.completions().create(completion("Hi").maxTokens(5000).build()));
        assertEquals("context_length_exceeded", e.code().orElseThrow());
        assertTrue(e.getMessage().contains(Integer.toString(TestServer.MAX_MODEL_LEN)), e.getMessage());

        e = assertThrows(BadRequestException.class,
                () -> client.completions().create(completion("Hi").n(0).build()));
        assertEquals("n", e.param().orElseThrow());
    }

    @Test
    void unknownModelIsNotFound() {
        NotFoundException e = assertThrows(NotFoundException.class, () -> client.chat().completions()
                .create(ChatCompletionCreateParams.builder().model("gpt-4o").addUserMessage("Hi").build()));
        assertEquals(404, e.statusCode());
        assertEquals("model", e.param().orElseThrow());
        assertEquals("model_not_found", e.code().orElseThrow());
        assertThrows(NotFoundException.class,
                () -> client.completions().create(CompletionCreateParams.builder().model("nope").prompt("x").build()));
        assertThrows(NotFoundException.class, () -> client.models().retrieve("nope"));
        assertEquals(TestServer.MODEL, client.models().retrieve(TestServer.MODEL).id());
        assertEquals(List.of(TestServer.MODEL), client.models().list().data().stream().map(m -> m.id()).toList());
    }

    /** About three code points from the middle of {@code text}, where they first occur. */
    static String middle(String text) {
        int count = text.codePointCount(0, text.length());
        assertTrue(count >= 8, "greedy output too short for a stop string: '" + text + "'");
        int from = text.offsetByCodePoints(0, count / 2);
        int to = text.offsetByCodePoints(from, 3);
        return text.substring(from, to);
    }
}
