package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponse;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FilePurpose;
import dev.sluice.api.batch.Progress;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bin/batch}'s runner ({@link BatchMain#run}): a 1000-line file gives the same greedy
 * answers as the server's Batch API, and an interrupted output file (a crash cut its last line
 * in half) is resumed: every line once, the complete ones kept.
 */
class OfflineBatchTest {

    private static final int LINES = 1000;

    private static String line(int i) {
        return TestServer.json(Map.of("custom_id", "o-" + i, "method", "POST", "url", "/v1/chat/completions",
                "body", TestServer.chat("Item " + i + " of the list", "max_tokens", 4 + i % 5, "temperature", 0,
                        "ignore_eos", true)));
    }

    /** custom_id -> answer text, each custom_id once; failed lines count as "ERROR:" + status. */
    private static Map<String, String> answers(String jsonl) {
        Map<String, String> out = new HashMap<>();
        for (String text : jsonl.split("\n")) {
            if (text.isBlank()) {
                continue;
            }
            JsonNode l = TestServer.parse(text);
            String content = l.at("/response/status_code").asInt() == 200
                    ? l.at("/response/body/choices/0/message/content").textValue() : "ERROR:" + l.at("/response/status_code");
            assertNull(out.put(l.get("custom_id").textValue(), content), "twice: " + text);
        }
        return out;
    }

    /** Result lines come in input order (as vLLM's run-batch writes them), whatever order they finished in. */
    private static void assertInputOrder(String jsonl) {
        int i = 0;
        for (String text : jsonl.split("\n")) {
            if (!text.isBlank()) {
                assertEquals("o-" + i++, TestServer.parse(text).get("custom_id").textValue());
            }
        }
        assertEquals(LINES, i);
    }

    @Test
    void sameGreedyAnswersAsTheServerAndResumesACutOffOutput() throws Exception {
        Path dir = Files.createTempDirectory("sluice-offline-");
        Path in = dir.resolve("in.jsonl");
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < LINES; i++) {
            input.append(line(i)).append('\n');
        }
        Files.writeString(in, input);
        ServerConfig config = TestServer.config("--batch-max-in-flight", "32");

        Path out = dir.resolve("out.jsonl");
        BatchMain.Summary first = BatchMain.run(config, Main.models(config).models().getFirst(), in, out, 32, Progress.silent());
        assertEquals(LINES, first.batch().answered(), first.text());
        Map<String, String> offline = answers(Files.readString(out));
        assertEquals(LINES, offline.size());
        assertInputOrder(Files.readString(out));

        // Resume: keep 300 complete lines and half of the next one, as a crash would leave it.
        List<String> lines = Files.readAllLines(out);
        Path cut = dir.resolve("cut.jsonl");
        Files.writeString(cut, String.join("\n", lines.subList(0, 300)) + "\n" + lines.get(300).substring(0, 40));
        BatchMain.Summary resumed = BatchMain.run(config, Main.models(config).models().getFirst(), in, cut, 32, Progress.silent());
        assertEquals(300, resumed.batch().skipped(), resumed.text());
        assertEquals(LINES - 300, resumed.batch().answered(), resumed.text());
        String resumedText = Files.readString(cut);
        assertTrue(resumedText.startsWith(String.join("\n", lines.subList(0, 300)) + "\n"), "the complete lines are kept");
        assertEquals(offline, answers(resumedText), "every line once, the same answers");
        assertInputOrder(resumedText);

        // The server's Batch API on the same file.
        try (TestServer server = TestServer.start("--batch-max-in-flight", "16")) {
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("x").maxRetries(0)
                    .timeout(Duration.ofMinutes(2)).build();
            try {
                String fileId = client.files().create(FileCreateParams.builder().file(in).purpose(FilePurpose.BATCH).build()).id();
                Batch b = client.batches().create(BatchCreateParams.builder().inputFileId(fileId)
                        .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                        .completionWindow(BatchCreateParams.CompletionWindow._24H).build());
                long deadline = System.nanoTime() + Duration.ofMinutes(8).toNanos();
                while (!Set.of("completed", "failed", "cancelled", "expired").contains(b.status().asString())) {
                    assertTrue(System.nanoTime() < deadline, "the batch did not finish: " + b);
                    Thread.sleep(200);
                    b = client.batches().retrieve(b.id());
                }
                assertEquals("completed", b.status().asString(), b.toString());
                String served;
                try (HttpResponse r = client.files().content(b.outputFileId().orElseThrow()); InputStream body = r.body()) {
                    served = new String(body.readAllBytes(), StandardCharsets.UTF_8);
                }
                assertEquals(offline, answers(served), "offline and served greedy answers");
            } finally {
                client.close();
            }
        }
    }
}
