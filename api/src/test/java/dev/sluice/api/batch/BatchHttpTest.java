package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.sluice.api.TestServer.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Files and Batch API over raw HTTP: exact error shapes and statuses, pagination, methods. */
class BatchHttpTest {

    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    private static HttpResponse<String> upload(String purpose, String content) {
        String boundary = "b0undary";
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose + "\r\n--"
                + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jsonl\"\r\n\r\n" + content
                + "\r\n--" + boundary + "--\r\n";
        return server.send(server.request("/v1/files").header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    @Test
    void errorsAreOpenAiShaped() {
        JsonNode missing = assertError(server.get("/v1/files/file-nope"), 404);
        assertEquals("No such File object: file-nope", missing.get("message").textValue());
        assertEquals("id", missing.get("param").textValue());
        assertEquals("invalid_request_error", missing.get("type").textValue());
        assertError(server.get("/v1/files/file-nope/content"), 404);
        assertError(server.send(server.request("/v1/files/file-nope").DELETE().build()), 404);
        assertEquals("id", assertError(server.get("/v1/batches/batch_nope"), 404).get("param").textValue());
        assertError(server.post("/v1/batches/batch_nope/cancel", "{}"), 404);

        assertError(server.post("/v1/files", "{\"purpose\": \"batch\"}"), 400); // not multipart
        assertEquals("purpose", assertError(upload("assistants", "{}"), 400).get("param").textValue());
        HttpResponse<String> noFile = server.send(server.request("/v1/files")
                .header("Content-Type", "multipart/form-data; boundary=b")
                .POST(HttpRequest.BodyPublishers.ofString("--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--b--\r\n"))
                .build());
        assertEquals("file", assertError(noFile, 400).get("param").textValue());
        assertError(server.send(server.request("/v1/files").header("Content-Type", "multipart/form-data; boundary=b")
                .POST(HttpRequest.BodyPublishers.ofString("--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbat"))
                .build()), 400); // cut off before its closing boundary

        assertEquals("input_file_id", assertError(server.post("/v1/batches", Map.of("endpoint", "/v1/chat/completions",
                "completion_window", "24h")), 400).get("param").textValue());
        String fileId = TestServer.parse(upload("batch", "{}").body()).get("id").textValue();
        JsonNode endpoint = assertError(server.post("/v1/batches", Map.of("input_file_id", fileId,
                "endpoint", "/v1/embeddings", "completion_window", "24h")), 400);
        assertEquals("endpoint", endpoint.get("param").textValue());
        assertEquals("completion_window", assertError(server.post("/v1/batches", Map.of("input_file_id", fileId,
                "endpoint", "/v1/completions", "completion_window", "1h")), 400).get("param").textValue());
        assertEquals("metadata", assertError(server.post("/v1/batches", Map.of("input_file_id", fileId,
                "endpoint", "/v1/completions", "completion_window", "24h", "metadata", Map.of("k", 1))), 400)
                .get("param").textValue());
        assertEquals("limit", assertError(server.get("/v1/batches?limit=0"), 400).get("param").textValue());

        HttpResponse<String> wrongMethod = server.send(server.request("/v1/batches").PUT(HttpRequest.BodyPublishers.noBody()).build());
        assertError(wrongMethod, 405);
        assertEquals("GET, POST", wrongMethod.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void filesAndBatchesPageWithAfterAndLimit() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = upload("batch", "{\"custom_id\": \"p" + i + "\"}");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode file = TestServer.parse(r.body());
            assertEquals(List.of("id", "object", "bytes", "created_at", "filename", "purpose", "status", "status_details",
                    "expires_at"), TestServer.fieldNames(file));
            assertEquals("x.jsonl", file.get("filename").textValue());
            ids.add(file.get("id").textValue());
        }
        JsonNode first = TestServer.parse(server.get("/v1/files?limit=2&order=asc&after=" + ids.get(0)).body());
        assertEquals("list", first.get("object").textValue());
        assertEquals(List.of(ids.get(1), ids.get(2)), List.of(first.at("/data/0/id").textValue(), first.at("/data/1/id").textValue()));
        assertEquals(ids.get(2), first.get("last_id").textValue());
        assertEquals(ids.get(1), first.get("first_id").textValue());
        JsonNode newest = TestServer.parse(server.get("/v1/files?limit=1").body());
        assertEquals(ids.get(2), newest.at("/data/0/id").textValue());
        assertTrue(newest.get("has_more").booleanValue());
        JsonNode rest = TestServer.parse(server.get("/v1/files?limit=100&after=" + ids.get(0)).body());
        assertFalse(rest.get("has_more").booleanValue());

        List<String> batches = new ArrayList<>();
        for (String id : ids) {
            JsonNode b = server.postOk("/v1/batches", Map.of("input_file_id", id, "endpoint", "/v1/chat/completions",
                    "completion_window", "24h"));
            assertEquals("batch", b.get("object").textValue());
            batches.add(b.get("id").textValue());
        }
        JsonNode page = TestServer.parse(server.get("/v1/batches?limit=2").body());
        assertEquals(batches.get(2), page.at("/data/0/id").textValue());
        assertEquals(batches.get(1), page.at("/data/1/id").textValue());
        assertTrue(page.get("has_more").booleanValue());
        JsonNode next = TestServer.parse(server.get("/v1/batches?limit=2&after=" + page.get("last_id").textValue()).body());
        assertEquals(batches.get(0), next.at("/data/0/id").textValue());
        assertFalse(next.get("has_more").booleanValue());

        JsonNode deleted = TestServer.parse(server.send(server.request("/v1/files/" + ids.get(0)).DELETE().build()).body());
        assertEquals(Map.of("id", ids.get(0), "object", "file", "deleted", true), TestServer.MAPPER.convertValue(deleted, Map.class));
    }
}
