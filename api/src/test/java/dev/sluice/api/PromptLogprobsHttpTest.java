package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import dev.sluice.bindings.llama.LlamaContext;
import dev.sluice.bindings.llama.LlamaReference;
import dev.sluice.testing.TestDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prompt logprobs on {@code /v1/completions} over real HTTP: lm-evaluation-harness's
 * loglikelihood request ({@code max_tokens 0}, {@code echo}, {@code logprobs 1}, temperature 0),
 * echo with generation, vLLM's {@code prompt_logprobs}, streaming, and the errors. Values are
 * llama.cpp's logits for every prompt token ({@code llama_decode} with all logits) through a
 * log-softmax, within {@code 1e-3 × max|logit|} of each row (the engine runs the same kernels;
 * rows may meet kernels tiled for another batch shape).
 */
class PromptLogprobsHttpTest {

    private static TestServer server;
    private static LlamaReference reference;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        reference = LlamaReference.open(TestServer.modelPath(), TestDevice.referenceModel(),
                LlamaContext.Options.defaults(1024).withThreads(1).withFlashAttention(LlamaContext.FlashAttention.ON));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    private static final int[] PROMPT = {791, 4320, 13876, 39935, 34208, 927, 279, 16053, 5679, 13, 578, 1176, 1060};

    /** log p(prompt[p] | prompt[0..p)) from llama.cpp's logits, and the row's max |logit|. */
    private static double[][] expected(int[] prompt) {
        float[][] logits = reference.promptLogits(prompt);
        double[][] out = new double[prompt.length][];
        for (int p = 1; p < prompt.length; p++) {
            float[] row = logits[p - 1];
            double max = Double.NEGATIVE_INFINITY;
            double maxAbs = 0;
            for (float v : row) {
                max = Math.max(max, v);
                maxAbs = Math.max(maxAbs, Math.abs(v));
            }
            double sum = 0;
            for (float v : row) {
                sum += Math.exp(v - max);
            }
            out[p] = new double[] {row[prompt[p]] - max - Math.log(sum), maxAbs, max - max - Math.log(sum)};
        }
        return out;
    }

    private static List<Integer> list(int[] tokens) {
        List<Integer> out = new ArrayList<>();
        for (int t : tokens) {
            out.add(t);
        }
        return out;
    }

    @Test
    void lmEvalLoglikelihoodRequest() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", TestServer.MODEL);
        body.put("prompt", list(PROMPT));
        body.put("max_tokens", 0);
        body.put("echo", true);
        body.put("logprobs", 1);
        body.put("temperature", 0);
        JsonNode response = server.postOk("/v1/completions", body);
        JsonNode choice = response.get("choices").get(0);
        assertEquals("length", choice.get("finish_reason").asText());
        assertEquals(0, response.get("usage").get("completion_tokens").asInt());
        assertEquals(PROMPT.length, response.get("usage").get("prompt_tokens").asInt());
        JsonNode logprobs = choice.get("logprobs");
        assertEquals(PROMPT.length, logprobs.get("tokens").size());
        assertEquals(PROMPT.length, logprobs.get("text_offset").size());
        assertTrue(logprobs.get("token_logprobs").get(0).isNull(), "the first token has no logprob");
        assertTrue(logprobs.get("top_logprobs").get(0).isNull(), "nor alternatives");
        assertEquals(0, logprobs.get("text_offset").get(0).asInt());
        double[][] expected = expected(PROMPT);
        StringBuilder text = new StringBuilder();
        for (int p = 0; p < PROMPT.length; p++) {
            assertEquals(text.length(), logprobs.get("text_offset").get(p).asInt(), "text_offset " + p);
            text.append(logprobs.get("tokens").get(p).asText());
            if (p == 0) {
                continue;
            }
            double tolerance = 1e-3 * expected[p][1];
            assertEquals(expected[p][0], logprobs.get("token_logprobs").get(p).asDouble(), tolerance, "token " + p);
            JsonNode top = logprobs.get("top_logprobs").get(p);
            assertEquals(1, top.size(), "logprobs 1: one alternative");
            assertEquals(expected[p][2], top.elements().next().asDouble(), tolerance, "the top alternative at " + p);
        }
        assertEquals(text.toString(), choice.get("text").asText(), "the echo is the prompt's text");
    }

    @Test
    void theOfficialSdkReadsTheLoglikelihoodAnswer() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("x").maxRetries(0)
                .timeout(Duration.ofMinutes(2)).build();
        try {
            List<Long> tokens = new ArrayList<>();
            for (int t : PROMPT) {
                tokens.add((long) t);
            }
            Completion completion = client.completions().create(CompletionCreateParams.builder().model(TestServer.MODEL)
                    .promptOfArrayOfTokens(tokens).maxTokens(0).echo(true).logprobs(1).temperature(0.0).build());
            CompletionChoice.Logprobs logprobs = completion.choices().getFirst().logprobs().orElseThrow();
            List<Double> values = logprobs.tokenLogprobs().orElseThrow();
            assertEquals(PROMPT.length, values.size());
            assertNull(values.getFirst(), "the first token has no logprob");
            double[][] expected = expected(PROMPT);
            for (int p = 1; p < PROMPT.length; p++) {
                assertEquals(expected[p][0], values.get(p), 1e-3 * expected[p][1], "token " + p);
            }
            assertEquals(CompletionChoice.FinishReason.LENGTH, completion.choices().getFirst().finishReason());
        } finally {
            client.close();
        }
    }

    @Test
    void echoWithGenerationPutsThePromptFirst() {
        Map<String, Object> plain = new LinkedHashMap<>();
        plain.put("model", TestServer.MODEL);
        plain.put("prompt", list(PROMPT));
        plain.put("max_tokens", 6);
        plain.put("logprobs", 2);
        plain.put("temperature", 0);
        plain.put("ignore_eos", true);
        JsonNode alone = server.postOk("/v1/completions", plain).get("choices").get(0);
        Map<String, Object> echoed = new LinkedHashMap<>(plain);
        echoed.put("echo", true);
        JsonNode choice = server.postOk("/v1/completions", echoed).get("choices").get(0);
        JsonNode logprobs = choice.get("logprobs");
        assertEquals(PROMPT.length + 6, logprobs.get("tokens").size());
        String completion = alone.get("text").asText();
        assertTrue(choice.get("text").asText().endsWith(completion), "text = prompt + completion");
        String prompt = choice.get("text").asText().substring(0, choice.get("text").asText().length() - completion.length());
        double[][] expected = expected(PROMPT);
        for (int p = 1; p < PROMPT.length; p++) {
            assertEquals(expected[p][0], logprobs.get("token_logprobs").get(p).asDouble(), 1e-3 * expected[p][1]);
            assertEquals(2, logprobs.get("top_logprobs").get(p).size());
        }
        for (int i = 0; i < 6; i++) {
            assertEquals(alone.get("logprobs").get("tokens").get(i), logprobs.get("tokens").get(PROMPT.length + i));
            // The echoed request decodes after another prefill of the prompt (batch shapes differ, and
            // with them ggml's kernels and sums): the logits tolerance of the prompt's rows above.
            assertEquals(alone.get("logprobs").get("token_logprobs").get(i).asDouble(),
                    logprobs.get("token_logprobs").get(PROMPT.length + i).asDouble(), 1e-3 * expected[PROMPT.length - 1][1]);
            assertEquals(prompt.length() + alone.get("logprobs").get("text_offset").get(i).asInt(),
                    logprobs.get("text_offset").get(PROMPT.length + i).asInt());
        }
    }

    @Test
    void vllmPromptLogprobs() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", TestServer.MODEL);
        body.put("prompt", list(PROMPT));
        body.put("max_tokens", 2);
        body.put("prompt_logprobs", 3);
        body.put("temperature", 0);
        JsonNode choice = server.postOk("/v1/completions", body).get("choices").get(0);
        assertTrue(choice.get("logprobs").isNull(), "no logprobs were asked for the generated tokens");
        JsonNode prompt = choice.get("prompt_logprobs");
        assertEquals(PROMPT.length, prompt.size());
        assertTrue(prompt.get(0).isNull());
        double[][] expected = expected(PROMPT);
        for (int p = 1; p < PROMPT.length; p++) {
            JsonNode entry = prompt.get(p);
            JsonNode own = entry.get(Integer.toString(PROMPT[p]));
            assertEquals(expected[p][0], own.get("logprob").asDouble(), 1e-3 * expected[p][1], "position " + p);
            assertTrue(own.get("rank").asInt() >= 1);
            assertTrue(own.has("decoded_token"));
            assertTrue(entry.size() >= 3 && entry.size() <= 4, "its token and 3 alternatives: " + entry);
            boolean rankOne = false;
            for (JsonNode alt : entry) {
                rankOne |= alt.get("rank").asInt() == 1;
            }
            assertTrue(rankOne, "the most likely token is there with rank 1");
        }
    }

    @Test
    void streamedEchoCarriesThePromptLogprobsFirst() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", TestServer.MODEL);
        body.put("prompt", list(PROMPT));
        body.put("max_tokens", 3);
        body.put("echo", true);
        body.put("logprobs", 0);
        body.put("temperature", 0);
        body.put("stream", true);
        HttpResponse<String> response = server.post("/v1/completions", body);
        assertEquals(200, response.statusCode(), response.body());
        List<JsonNode> chunks = new ArrayList<>();
        for (String line : response.body().split("\n")) {
            if (line.startsWith("data: {")) {
                chunks.add(TestServer.parse(line.substring(6)));
            }
        }
        JsonNode first = chunks.getFirst().get("choices").get(0);
        JsonNode logprobs = first.get("logprobs");
        assertEquals(PROMPT.length, logprobs.get("tokens").size(), first.toString());
        assertTrue(logprobs.get("token_logprobs").get(0).isNull());
        double[][] expected = expected(PROMPT);
        assertEquals(expected[1][0], logprobs.get("token_logprobs").get(1).asDouble(), 1e-3 * expected[1][1]);
        int generated = 0;
        for (JsonNode chunk : chunks.subList(1, chunks.size())) {
            JsonNode lp = chunk.get("choices").get(0).get("logprobs");
            generated += lp.isNull() ? 0 : lp.get("tokens").size();
        }
        assertEquals(3, generated);
    }

    @Test
    void longPromptsAreScoredAcrossSteps() {
        // 700 tokens: more than one step's worth of whole-logits rows, so the prompt runs in chunks.
        int[] prompt = new int[700];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = PROMPT[i % PROMPT.length] + i % 7;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", TestServer.MODEL);
        body.put("prompt", list(prompt));
        body.put("max_tokens", 0);
        body.put("echo", true);
        body.put("logprobs", 0);
        JsonNode logprobs = server.postOk("/v1/completions", body).get("choices").get(0).get("logprobs");
        double[][] expected = expected(prompt);
        for (int p : new int[] {1, 255, 256, 257, 511, 512, 699}) {
            assertEquals(expected[p][0], logprobs.get("token_logprobs").get(p).asDouble(), 1e-3 * expected[p][1],
                    "position " + p);
        }
        assertEquals(0, server.version().ready().pendingRequests());
    }

    @Test
    void errors() {
        Map<String, Object> streamed = new LinkedHashMap<>();
        streamed.put("model", TestServer.MODEL);
        streamed.put("prompt", "hi");
        streamed.put("prompt_logprobs", 1);
        streamed.put("stream", true);
        assertBad(streamed, "prompt_logprobs");
        Map<String, Object> many = new LinkedHashMap<>();
        many.put("model", TestServer.MODEL);
        many.put("prompt", "hi");
        many.put("max_tokens", 0);
        many.put("n", 2);
        assertBad(many, "n");
        Map<String, Object> tooMany = new LinkedHashMap<>();
        tooMany.put("model", TestServer.MODEL);
        tooMany.put("prompt", "hi");
        tooMany.put("prompt_logprobs", 21);
        assertBad(tooMany, "prompt_logprobs");
    }

    private static void assertBad(Map<String, Object> body, String param) {
        HttpResponse<String> response = server.post("/v1/completions", body);
        assertEquals(400, response.statusCode(), response.body());
        assertEquals(param, TestServer.parse(response.body()).get("error").get("param").asText(), response.body());
    }
}
