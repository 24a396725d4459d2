package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.sluice.bindings.llama.LlamaContext;
import dev.sluice.bindings.llama.LlamaReference;
import dev.sluice.engine.model.Pooling;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;
import dev.sluice.testing.TestDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code POST /v1/embeddings} through OpenAI's official Java SDK on a real server serving a
 * generated qwen3 model that declares last-token pooling (as Qwen3-Embedding does): strings and
 * token arrays, float and base64, equal to llama.cpp's pooled embedding
 * ({@code llama_get_embeddings_seq}) L2-normalised as llama-server normalises it; Matryoshka
 * {@code dimensions}; and the errors.
 *
 * <p>Tolerance: the engine's pooled states equal llama.cpp's to the last bit or so (see the
 * engine's parity test); normalisation and JSON's shortest float text keep float32 values, so
 * components agree within {@code 1e-5} of a unit vector.
 */
class EmbeddingsSdkTest {

    private static final String MODEL = "emb";
    private static Path model;
    private static TestServer server;
    private static OpenAIClient client;
    private static LlamaReference reference;

    @BeforeAll
    static void start() {
        model = TestModelGenerator.ensureEmbedding(Preset.TINY_QWEN3, WeightType.F16, 7, Pooling.LAST);
        server = TestServer.startModels(TestServer.config("--model", model.toString(), "--model-name", MODEL,
                "--max-embedding-inputs", "40", "--max-embedding-tokens", "3000"));
        client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("x").maxRetries(0)
                .timeout(Duration.ofMinutes(2)).build();
        reference = LlamaReference.open(model, TestDevice.referenceModel(), LlamaContext.Options.defaults(1024)
                .withThreads(1).withFlashAttention(LlamaContext.FlashAttention.ON).withEmbeddings(LlamaContext.Pooling.LAST));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    /** llama.cpp's pooled embedding of {@code tokens}, normalised as llama-server does (Euclidean). */
    private static float[] expected(int[] tokens) {
        float[] pooled = reference.embedding(tokens);
        double sum = 0;
        for (float v : pooled) {
            sum += v * v;
        }
        float scale = (float) (1.0 / Math.sqrt(sum));
        float[] out = new float[pooled.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = pooled[i] * scale;
        }
        return out;
    }

    private static void assertVector(float[] expected, List<Float> actual, String what) {
        assertEquals(expected.length, actual.size(), what + ": length");
        float tolerance = tolerance(expected);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual.get(i), tolerance, what + ": component " + i);
        }
    }

    /**
     * 1e-3 of the largest component, as the engine's embedding parity test allows: Sluice and
     * llama.cpp run the same kernels over other batch shapes, which sum in another order (on an
     * AVX-512 Xeon the components differ by up to 3e-4 of the largest).
     */
    private static float tolerance(float[] expected) {
        float largest = 0;
        for (float e : expected) {
            largest = Math.max(largest, Math.abs(e));
        }
        return 1e-3f * largest;
    }

    private static int[] tokens(String text) {
        return reference.vocab().tokenize(text, true, false);
    }

    private static List<Long> longs(int[] tokens) {
        List<Long> out = new ArrayList<>();
        for (int t : tokens) {
            out.add((long) t);
        }
        return out;
    }

    private static EmbeddingCreateParams.Builder params() {
        return EmbeddingCreateParams.builder().model(MODEL).encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT);
    }

    @Test
    void stringsAsFloatsEqualLlamaCpp() {
        List<String> texts = List.of("The quick brown fox", "jumps over the lazy dog, twice.", "a");
        CreateEmbeddingResponse response = client.embeddings().create(params().inputOfArrayOfStrings(texts).build());
        assertEquals(MODEL, response.model());
        assertEquals(texts.size(), response.data().size());
        long tokens = 0;
        for (int i = 0; i < texts.size(); i++) {
            assertEquals(i, response.data().get(i).index());
            int[] ids = tokens(texts.get(i));
            tokens += ids.length;
            assertVector(expected(ids), response.data().get(i).embedding(), texts.get(i));
        }
        assertEquals(tokens, response.usage().promptTokens());
        assertEquals(tokens, response.usage().totalTokens());
    }

    @Test
    void tokenArraysAsBase64EqualLlamaCpp() {
        int[] a = {11, 400, 1234, 77, 5};
        int[] b = {900, 3, 3, 3, 42, 8000, 17, 256, 1};
        CreateEmbeddingResponse response = client.embeddings().create(EmbeddingCreateParams.builder().model(MODEL)
                .encodingFormat(EmbeddingCreateParams.EncodingFormat.BASE64)
                .inputOfArrayOfTokenArrays(List.of(longs(a), longs(b))).build());
        assertVector(expected(a), response.data().get(0).embedding(), "token array a");
        assertVector(expected(b), response.data().get(1).embedding(), "token array b");
        assertEquals(a.length + b.length, response.usage().promptTokens());

        // One array of token ids is one input.
        CreateEmbeddingResponse single = client.embeddings().create(params().inputOfArrayOfTokens(longs(a)).build());
        assertEquals(1, single.data().size());
        assertVector(expected(a), single.data().get(0).embedding(), "one token array");
    }

    @Test
    void theWireShapeIsOpenAisToTheByte() {
        HttpResponse<String> raw = server.post("/v1/embeddings", Map.of("model", MODEL, "input", "hello there",
                "encoding_format", "base64", "user", "someone"));
        assertEquals(200, raw.statusCode(), raw.body());
        JsonNode body = TestServer.parse(raw.body());
        assertEquals(List.of("object", "data", "model", "usage"), fieldNames(body));
        assertEquals("list", body.get("object").asText());
        JsonNode item = body.get("data").get(0);
        assertEquals(List.of("object", "index", "embedding"), fieldNames(item));
        assertEquals("embedding", item.get("object").asText());
        assertEquals(List.of("prompt_tokens", "total_tokens"), fieldNames(body.get("usage")));
        byte[] bytes = Base64.getDecoder().decode(item.get("embedding").asText());
        float[] expected = expected(tokens("hello there"));
        assertEquals(expected.length * 4, bytes.length);
        ByteBuffer le = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float tolerance = tolerance(expected);
        for (float e : expected) {
            assertEquals(e, le.getFloat(), tolerance);
        }
    }

    @Test
    void dimensionsTruncateAndRenormalise() {
        int[] ids = tokens("matryoshka dolls nest");
        float[] full = expected(ids);
        List<Float> cut = client.embeddings().create(params().input("matryoshka dolls nest").dimensions(16).build())
                .data().getFirst().embedding();
        assertEquals(16, cut.size());
        double norm = 0;
        for (int i = 0; i < 16; i++) {
            norm += full[i] * full[i];
        }
        norm = Math.sqrt(norm);
        float[] expected = new float[16];
        for (int i = 0; i < 16; i++) {
            expected[i] = (float) (full[i] / norm);
        }
        float tolerance = tolerance(expected);
        double length = 0;
        for (int i = 0; i < 16; i++) {
            assertEquals(expected[i], cut.get(i), tolerance, "component " + i);
            length += cut.get(i) * cut.get(i);
        }
        assertEquals(1.0, length, 1e-5);
    }

    @Test
    void manyInputsInWavesKeepTheirOrder() {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 37; i++) {
            texts.add("input number " + i + (i % 3 == 0 ? " with a longer tail of words" : ""));
        }
        CreateEmbeddingResponse response = client.embeddings().create(params().inputOfArrayOfStrings(texts).build());
        for (int i : new int[] {0, 1, 18, 36}) {
            assertVector(expected(tokens(texts.get(i))), response.data().get(i).embedding(), texts.get(i));
        }
        assertEquals(0, server.version().ready().pendingRequests(), "every input's request ended");
    }

    @Test
    void badRequestsAreOpenAiErrors() {
        assertBad(Map.of("model", MODEL, "input", "hello world, ".repeat(600)), "input", "context_length_exceeded");
        List<Integer> tooLong = new ArrayList<>();
        for (int i = 0; i < TestServer.MAX_MODEL_LEN + 1; i++) {
            tooLong.add(5);
        }
        assertBad(Map.of("model", MODEL, "input", tooLong), "input", "context_length_exceeded");
        assertBad(Map.of("model", MODEL, "input", ""), "input", null);
        assertBad(Map.of("model", MODEL, "input", List.of()), "input", null);
        assertBad(Map.of("model", MODEL, "input", List.of(List.of())), "input", null);
        assertBad(Map.of("model", MODEL, "input", List.of(1, 999999999)), "input", null);
        assertBad(Map.of("model", MODEL, "input", "hi", "encoding_format", "int8"), "encoding_format", null);
        assertBad(Map.of("model", MODEL, "input", "hi", "dimensions", 0), "dimensions", null);
        assertBad(Map.of("model", MODEL, "input", "hi", "dimensions", 65), "dimensions", null);
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 41; i++) {
            many.add("x");
        }
        assertBad(Map.of("model", MODEL, "input", many), "input", null);
        List<List<Integer>> heavy = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            heavy.add(new ArrayList<>(tooLong.subList(0, 1000)));
        }
        assertBad(Map.of("model", MODEL, "input", heavy), "input", null);

        BadRequestException e = assertThrows(BadRequestException.class, () ->
                client.embeddings().create(params().input("hi").dimensions(1000).build()));
        assertEquals(400, e.statusCode());
        assertEquals(0, server.version().ready().pendingRequests());
    }

    @Test
    void meanPoolingOnALlamaModelEqualsLlamaCpp() throws InterruptedException {
        Path mean = TestModelGenerator.ensureEmbedding(Preset.TINY_LLAMA, WeightType.F16, 7, Pooling.MEAN);
        try (TestServer other = TestServer.startModels(TestServer.config("--model", mean.toString(), "--model-name", "mean"));
             LlamaReference meanReference = LlamaReference.open(mean, TestDevice.referenceModel(),
                     LlamaContext.Options.defaults(1024).withThreads(1).withFlashAttention(LlamaContext.FlashAttention.ON)
                             .withEmbeddings(LlamaContext.Pooling.MEAN))) {
            int[] ids = {1, 345, 22, 1900, 7, 88, 410, 5, 61, 3000, 12};
            List<Integer> input = new ArrayList<>();
            for (int t : ids) {
                input.add(t);
            }
            JsonNode body = other.postOk("/v1/embeddings", Map.of("model", "mean", "input", input));
            float[] pooled = meanReference.embedding(ids);
            double sum = 0;
            for (float v : pooled) {
                sum += v * v;
            }
            JsonNode vector = body.get("data").get(0).get("embedding");
            assertEquals(pooled.length, vector.size());
            for (int i = 0; i < pooled.length; i++) {
                assertEquals(pooled[i] / Math.sqrt(sum), vector.get(i).asDouble(), 1e-5, "component " + i);
            }
        }
    }

    @Test
    void aModelWithoutPoolingRefusesEmbeddings() {
        try (TestServer plain = TestServer.start()) {
            HttpResponse<String> response = plain.post("/v1/embeddings", Map.of("model", TestServer.MODEL, "input", "hi"));
            assertEquals(400, response.statusCode(), response.body());
            assertTrue(response.body().contains("pooling"), response.body());
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void assertBad(Map<String, Object> body, String param, String code) {
        HttpResponse<String> response = server.post("/v1/embeddings", body);
        assertEquals(400, response.statusCode(), response.body());
        JsonNode error = TestServer.parse(response.body()).get("error");
        assertEquals("invalid_request_error", error.get("type").asText(), response.body());
        assertEquals(param, error.get("param").asText(), response.body());
        if (code != null) {
            assertEquals(code, error.get("code").asText(), response.body());
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
