package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.batches.BatchListParams;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileDeleted;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import dev.sluice.api.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Files and Batch API through OpenAI's official Java SDK, on a real server and model. */
class BatchSdkTest {

    private static final int MAX_FILE_BYTES = 256 * 1024;
    /** A price of 3.6 per hour: 0.001 per engine-second. */
    private static final double COST_PER_HOUR = 3.6;

    private static TestServer server;
    private static OpenAIClient client;

    @BeforeAll
    static void start() {
        server = TestServer.start("--batch-max-in-flight", "4", "--max-file-bytes", Integer.toString(MAX_FILE_BYTES),
                "--cost-per-hour", Double.toString(COST_PER_HOUR));
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

    /** A chat input line: greedy, exactly {@code tokens} tokens. */
    static String chatLine(String customId, String user, int tokens) {
        return TestServer.json(Map.of("custom_id", customId, "method", "POST", "url", "/v1/chat/completions",
                "body", TestServer.chat(user, "max_tokens", tokens, "temperature", 0, "ignore_eos", true)));
    }

    static FileObject upload(String content) {
        return client.files().create(FileCreateParams.builder().file(content.getBytes(StandardCharsets.UTF_8))
                .purpose(FilePurpose.BATCH).build());
    }

    static Batch create(String fileId) {
        return client.batches().create(BatchCreateParams.builder().inputFileId(fileId)
                .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                .completionWindow(BatchCreateParams.CompletionWindow._24H)
                .metadata(BatchCreateParams.Metadata.builder().putAdditionalProperty("job", JsonValue.from("test")).build())
                .build());
    }

    static Batch await(String id, Predicate<Batch> until) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
        while (true) {
            Batch b = client.batches().retrieve(id);
            b.validate();
            if (until.test(b)) {
                return b;
            }
            assertTrue(System.nanoTime() < deadline, "batch did not get there: " + b);
            Thread.sleep(100);
        }
    }

    private static double num(JsonValue v) {
        return ((Number) v.asNumber().orElseThrow()).doubleValue();
    }

    static boolean done(Batch b) {
        return Set.of("completed", "failed", "cancelled", "expired").contains(b.status().asString());
    }

    static List<JsonNode> lines(String fileId) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        try (HttpResponse response = client.files().content(fileId); InputStream in = response.body()) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isEmpty()) {
                    out.add(TestServer.parse(line));
                }
            }
        }
        return out;
    }

    /** Each of {@code ids} appears exactly once over the lines; returns the lines by custom_id. */
    static Map<String, JsonNode> exactlyOnce(Set<String> ids, List<JsonNode> lines) {
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode line : lines) {
            String id = line.get("custom_id").isNull() ? null : line.get("custom_id").textValue();
            if (id != null) {
                assertNull(byId.put(id, line), "custom_id " + id + " appears twice");
            }
        }
        assertEquals(ids, new TreeSet<>(byId.keySet()), "every custom_id, once");
        return byId;
    }

    @Test
    void uploadCreatePollDownloadEveryCustomIdOnce() throws Exception {
        StringBuilder input = new StringBuilder();
        Set<String> ids = new TreeSet<>();
        for (int i = 0; i < 12; i++) {
            input.append(chatLine("req-" + i, "Tell me about number " + i, 8)).append('\n');
            ids.add("req-" + i);
        }
        input.append("{not json\n"); // line 13
        input.append(TestServer.json(Map.of("custom_id", "wrong-url", "method", "POST", "url", "/v1/completions",
                "body", TestServer.completion("x")))).append('\n'); // line 14
        input.append(TestServer.json(Map.of("custom_id", "bad-field", "method", "POST", "url", "/v1/chat/completions",
                "body", TestServer.chat("hi", "temperature", 7)))).append('\n'); // line 15: fails when it runs
        ids.add("wrong-url");
        ids.add("bad-field");

        FileObject file = upload(input.toString());
        file.validate();
        assertEquals("batch", file.purpose().asString());
        assertEquals(input.toString().getBytes(StandardCharsets.UTF_8).length, file.bytes());
        assertEquals(file.id(), client.files().retrieve(file.id()).id());

        Batch created = create(file.id());
        created.validate();
        assertEquals("/v1/chat/completions", created.endpoint());
        Batch b = await(created.id(), BatchSdkTest::done);
        assertEquals("completed", b.status().asString(), b.toString());
        assertEquals(15, b.requestCounts().orElseThrow().total());
        assertEquals(TestServer.MODEL, b.model().orElseThrow(), "the lines' model");
        assertEquals(12, b.requestCounts().orElseThrow().completed());
        assertEquals(3, b.requestCounts().orElseThrow().failed());
        assertEquals(12 * 8, b.usage().orElseThrow().outputTokens());
        assertEquals("test", b.metadata().orElseThrow()._additionalProperties().get("job").asString().orElseThrow());
        // Cost: the lines' share of the engine's time, priced at --cost-per-hour; never more than the engine's total.
        Map<String, JsonValue> usage = b.usage().orElseThrow()._additionalProperties();
        double engineSeconds = num(usage.get("engine_seconds"));
        double cost = num(usage.get("cost"));
        assertTrue(engineSeconds > 0, usage.toString());
        assertEquals(engineSeconds * COST_PER_HOUR / 3600, cost, 1e-9);
        assertEquals(cost * 1e6 / b.usage().orElseThrow().totalTokens(),
                num(usage.get("cost_per_million_tokens")), 1e-6);
        dev.sluice.api.PrometheusText metrics = server.metrics();
        double total = metrics.value("sluice:engine_seconds_total");
        assertTrue(engineSeconds <= total + 1e-6, engineSeconds + " of " + total);
        assertEquals(total * COST_PER_HOUR / 3600, metrics.value("sluice:engine_cost_total"), total * 1e-9);

        List<JsonNode> output = lines(b.outputFileId().orElseThrow());
        List<JsonNode> errors = lines(b.errorFileId().orElseThrow());
        assertEquals(12, output.size());
        assertEquals(3, errors.size());
        List<JsonNode> all = new ArrayList<>(output);
        all.addAll(errors);
        Map<String, JsonNode> byId = exactlyOnce(ids, all);
        for (JsonNode line : output) {
            assertTrue(line.get("id").textValue().startsWith("batch_req_"), line.toString());
            assertTrue(line.get("error").isNull(), line.toString());
            assertEquals(200, line.at("/response/status_code").intValue(), line.toString());
            assertEquals("chat.completion", line.at("/response/body/object").textValue(), line.toString());
        }
        // Line 13 has no custom_id to give back; its error names the line.
        JsonNode notJson = errors.stream().filter(l -> l.get("custom_id").isNull()).findFirst().orElseThrow();
        assertEquals(13, notJson.at("/error/line").intValue(), notJson.toString());
        assertEquals(14, byId.get("wrong-url").at("/error/line").intValue());
        assertEquals("url", byId.get("wrong-url").at("/error/param").textValue());
        JsonNode badField = byId.get("bad-field");
        assertEquals(400, badField.at("/response/status_code").intValue(), badField.toString());
        assertEquals("temperature", badField.at("/response/body/error/param").textValue(), badField.toString());

        // The batch path answers as the HTTP path does (greedy).
        ChatCompletion direct = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model(TestServer.MODEL).addUserMessage("Tell me about number 3").maxTokens(8).temperature(0.0)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        assertEquals(direct.choices().getFirst().message().content().orElseThrow(),
                byId.get("req-3").at("/response/body/choices/0/message/content").textValue());

        // Listed, newest first.
        List<Batch> listed = client.batches().list(BatchListParams.builder().limit(100).build()).data();
        assertTrue(listed.stream().anyMatch(x -> x.id().equals(b.id())));
        FileObject out = client.files().retrieve(b.outputFileId().orElseThrow());
        assertEquals("batch_output", out.purpose().asString());
    }

    @Test
    void cancelMidwayKeepsPartialResultsAndAccountsForEveryLine() throws Exception {
        StringBuilder input = new StringBuilder();
        Set<String> ids = new TreeSet<>();
        for (int i = 0; i < 60; i++) {
            input.append(chatLine("c-" + i, "Story " + i, 48)).append('\n');
            ids.add("c-" + i);
        }
        Batch created = create(upload(input.toString()).id());
        await(created.id(), x -> x.requestCounts().map(c -> c.completed() >= 2).orElse(false) || done(x));
        Batch cancelling = client.batches().cancel(created.id());
        assertTrue(Set.of("cancelling", "cancelled").contains(cancelling.status().asString()), cancelling.toString());
        Batch b = await(created.id(), BatchSdkTest::done);
        assertEquals("cancelled", b.status().asString(), b.toString());
        long completed = b.requestCounts().orElseThrow().completed();
        assertTrue(completed >= 2 && completed < 60, "partial: " + completed);
        List<JsonNode> output = lines(b.outputFileId().orElseThrow());
        List<JsonNode> errors = lines(b.errorFileId().orElseThrow());
        assertEquals(completed, output.size());
        List<JsonNode> all = new ArrayList<>(output);
        all.addAll(errors);
        exactlyOnce(ids, all);
        assertTrue(errors.stream().allMatch(l -> l.at("/error/code").textValue().equals("batch_cancelled")), errors.toString());
        // A finished batch cannot be cancelled again.
        OpenAIServiceException again = assertThrows(OpenAIServiceException.class, () -> client.batches().cancel(b.id()));
        assertEquals(409, again.statusCode());
    }

    @Test
    void filesListRetrieveDeleteInOpenAiShapes() {
        FileObject a = upload(chatLine("x", "hi", 1) + "\n");
        FileObject b = upload(chatLine("y", "hi", 1) + "\n");
        List<FileObject> files = client.files().list().data();
        files.forEach(FileObject::validate);
        assertTrue(files.indexOf(files.stream().filter(f -> f.id().equals(b.id())).findFirst().orElseThrow())
                < files.indexOf(files.stream().filter(f -> f.id().equals(a.id())).findFirst().orElseThrow()), "newest first");
        FileDeleted deleted = client.files().delete(a.id());
        deleted.validate();
        assertTrue(deleted.deleted());
        assertEquals(a.id(), deleted.id());
        NotFoundException gone = assertThrows(NotFoundException.class, () -> client.files().retrieve(a.id()));
        assertTrue(gone.getMessage().contains("No such File object: " + a.id()), gone.getMessage());
        assertThrows(NotFoundException.class, () -> client.files().delete(a.id()));
        assertFalse(client.files().list().data().stream().anyMatch(f -> f.id().equals(a.id())));
    }

    @Test
    void badInputGetsOpenAiErrors() throws Exception {
        // A missing input file.
        NotFoundException missing = assertThrows(NotFoundException.class, () -> create("file-doesnotexist"));
        assertEquals("input_file_id", missing.param().orElseThrow());
        // An endpoint batches do not serve.
        String fileId = upload(chatLine("e", "hi", 1) + "\n").id();
        BadRequestException endpoint = assertThrows(BadRequestException.class, () -> client.batches().create(
                BatchCreateParams.builder().inputFileId(fileId).endpoint(BatchCreateParams.Endpoint.V1_EMBEDDINGS)
                        .completionWindow(BatchCreateParams.CompletionWindow._24H).build()));
        assertEquals("endpoint", endpoint.param().orElseThrow());
        // A file over --max-file-bytes.
        OpenAIServiceException large = assertThrows(OpenAIServiceException.class, () -> client.files().create(
                FileCreateParams.builder().file(new byte[MAX_FILE_BYTES + 1]).purpose(FilePurpose.BATCH).build()));
        assertEquals(413, large.statusCode());
        // A purpose this server does not keep files for.
        BadRequestException purpose = assertThrows(BadRequestException.class, () -> client.files().create(
                FileCreateParams.builder().file(new byte[] {'{', '}'}).purpose(FilePurpose.FINE_TUNE).build()));
        assertEquals("purpose", purpose.param().orElseThrow());
        // Unknown batch.
        assertThrows(NotFoundException.class, () -> client.batches().retrieve("batch_nope"));
        // A file of nothing but malformed lines: the batch fails, naming the lines.
        Batch b = await(create(upload("{\n[1]\n").id()).id(), BatchSdkTest::done);
        assertEquals("failed", b.status().asString(), b.toString());
        List<Long> lines = b.errors().orElseThrow().data().orElseThrow().stream()
                .map(e -> e.line().orElseThrow()).toList();
        assertEquals(List.of(1L, 2L), lines);
    }
}
