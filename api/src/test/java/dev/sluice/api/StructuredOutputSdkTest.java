package dev.sluice.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.StructuredChatCompletion;
import com.openai.models.chat.completions.StructuredChatCompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Structured outputs through the OpenAI Java SDK's own helper: {@code responseFormat(Class)} sends
 * the JSON schema it derives from a record (strict, every property required, no additional ones),
 * and its {@code StructuredChatCompletion} parses the answer back into the record.
 */
class StructuredOutputSdkTest {

    public enum Answer { YES, NO, MAYBE }

    public record Detail(boolean flag, Answer second) {
    }

    /** Only bounded fields: a random-weight model finishes it well within max_tokens. */
    public record Verdict(Answer answer, boolean sure, long score, Detail detail) {
    }

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

    private static StructuredChatCompletionCreateParams<Verdict> params(long seed) {
        return ChatCompletionCreateParams.builder().model(TestServer.MODEL).addUserMessage("Judge this.")
                .responseFormat(Verdict.class).seed(seed).maxCompletionTokens(400).build();
    }

    @Test
    void aRecordComesBackParsed() {
        for (long seed = 0; seed < 3; seed++) {
            StructuredChatCompletion<Verdict> completion = client.chat().completions().create(params(seed));
            StructuredChatCompletion.Choice<Verdict> choice = completion.choices().getFirst();
            assertEquals(ChatCompletion.Choice.FinishReason.STOP, choice.finishReason());
            Verdict verdict = choice.message().content().orElseThrow();
            assertNotNull(verdict.answer());
            assertNotNull(verdict.detail().second());
        }
    }

    @Test
    void theStreamedAnswerAssemblesToTheRecord() throws Exception {
        StringBuilder text = new StringBuilder();
        String finish = null;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params(7))) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                for (ChatCompletionChunk.Choice c : chunk.choices()) {
                    c.delta().content().ifPresent(text::append);
                    if (c.finishReason().isPresent()) {
                        finish = c.finishReason().get().asString();
                    }
                }
            }
        }
        assertEquals("stop", finish);
        Verdict verdict = new ObjectMapper().readValue(text.toString(), Verdict.class);
        assertNotNull(verdict.answer(), text::toString);
        assertTrue(text.toString().startsWith("{"), text::toString);
    }
}
