package dev.sluice.api.batch;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.http.ErrorHandlers;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.sql.SQLException;
import java.util.List;

/**
 * OpenAI's Files API: {@code POST /v1/files} (a multipart upload with {@code file} and
 * {@code purpose}), {@code GET /v1/files}, {@code GET /v1/files/{id}},
 * {@code GET /v1/files/{id}/content}, {@code DELETE /v1/files/{id}}. Files exist here for the
 * Batch API: {@code purpose} must be {@code batch} (another purpose is a 400 rather than a file
 * kept for nothing). The upload is streamed to disk under {@code --max-file-bytes}, a limit of
 * its own: Helidon's payload limit is the larger of the two, and every other route checks
 * {@code --max-request-bytes} itself.
 */
final class FilesService implements HttpService {

    /** Room for the multipart framing and the small fields around the file. */
    static final long MULTIPART_OVERHEAD = 1024 * 1024;

    private final BatchApi api;
    private final long maxFileBytes;
    private final ConnectionGuard guard;

    FilesService(BatchApi api, long maxFileBytes, ConnectionGuard guard) {
        this.api = api;
        this.maxFileBytes = maxFileBytes;
        this.guard = guard;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/v1/files", this::upload)
                .get("/v1/files", this::list)
                .get("/v1/files/{id}", (req, res) -> Replies.send(res, file(req).json()))
                .delete("/v1/files/{id}", this::delete)
                .get("/v1/files/{id}/content", this::content)
                .any("/v1/files", ErrorHandlers.methodNotAllowed("GET, POST"))
                .any("/v1/files/{id}", ErrorHandlers.methodNotAllowed("GET, DELETE"))
                .any("/v1/files/{id}/content", ErrorHandlers.methodNotAllowed("GET"));
    }

    private void upload(ServerRequest req, ServerResponse res) throws IOException, SQLException {
        String boundary = Multipart.boundary(req.headers().first(HeaderNames.CONTENT_TYPE).orElse(null));
        if (boundary == null) {
            throw ApiException.invalid(null, "Upload the file as multipart/form-data with the fields file and purpose.");
        }
        long declared = req.headers().first(HeaderNames.CONTENT_LENGTH).map(Long::parseLong).orElse(-1L);
        if (declared > maxFileBytes + MULTIPART_OVERHEAD) {
            guard.closeAfterResponse(req, null); // the body stays unread
            throw tooLarge().closingConnection();
        }
        Storage storage = api.storage();
        // As in Bodies: a half-read body is not closed (closing would read the rest of it).
        InputStream in = req.content().inputStream();
        Multipart.Upload upload;
        try {
            upload = Multipart.read(in, boundary, storage.files().tmpDir(), maxFileBytes, () -> guard.reading(req, declared));
        } catch (ApiException e) {
            guard.closeAfterResponse(req, in); // the rest of the body stays unread
            throw e.closingConnection();
        } finally {
            guard.done(req);
        }
        in.close();
        try {
            String purpose = upload.fields().get("purpose");
            if (purpose == null || purpose.isBlank()) {
                throw ApiException.invalid("purpose", "Missing required parameter: 'purpose'.");
            }
            if (!purpose.equals("batch")) {
                throw ApiException.invalid("purpose", "'" + purpose + "' is not a supported purpose: this server keeps"
                        + " files for the Batch API only, so the purpose must be 'batch'.");
            }
            if (upload.file() == null) {
                throw ApiException.invalid("file", "Missing required parameter: 'file'.");
            }
            FileStore.FileRecord record = storage.files().add(upload.file(), upload.filename(), purpose);
            Replies.send(res, record.json());
        } finally {
            if (upload.file() != null) {
                Files.deleteIfExists(upload.file());
            }
        }
    }

    private ApiException tooLarge() {
        return new ApiException(Status.REQUEST_ENTITY_TOO_LARGE_413, "invalid_request_error",
                "The file is larger than the server's limit of " + maxFileBytes + " bytes (--max-file-bytes).", "file",
                "file_too_large");
    }

    private void list(ServerRequest req, ServerResponse res) throws SQLException {
        int limit = Replies.limit(req, 10_000, 10_000);
        String order = req.query().first("order").orElse("desc");
        if (!order.equals("asc") && !order.equals("desc")) {
            throw ApiException.invalid("order", "order must be 'asc' or 'desc', got '" + order + "'.");
        }
        String after = req.query().first("after").orElse(null);
        List<FileStore.FileRecord> files = api.storage().files().list(after, limit, order.equals("desc"),
                req.query().first("purpose").orElse(null));
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("object", "list");
        ArrayNode data = body.putArray("data");
        files.stream().limit(limit).forEach(f -> data.add(f.json()));
        Replies.listCursors(body, data);
        body.put("has_more", files.size() > limit);
        Replies.send(res, body);
    }

    private FileStore.FileRecord file(ServerRequest req) throws SQLException {
        String id = req.path().pathParameters().get("id");
        return api.storage().files().get(id).orElseThrow(() -> notFound(id));
    }

    static ApiException notFound(String id) {
        return ApiException.notFound("No such File object: " + id, "id", null);
    }

    private void delete(ServerRequest req, ServerResponse res) throws SQLException, IOException {
        String id = req.path().pathParameters().get("id");
        if (!api.storage().files().delete(id)) {
            throw notFound(id);
        }
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("id", id);
        body.put("object", "file");
        body.put("deleted", true);
        Replies.send(res, body);
    }

    private void content(ServerRequest req, ServerResponse res) throws SQLException, IOException {
        FileStore.FileRecord f = file(req);
        InputStream in;
        try {
            in = Files.newInputStream(api.storage().files().content(f.id()));
        } catch (NoSuchFileException e) {
            throw notFound(f.id()); // deleted meanwhile
        }
        try (in) {
            res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
            res.contentLength(f.bytes());
            try (OutputStream out = res.outputStream()) {
                byte[] chunk = new byte[64 * 1024];
                for (int n; (n = in.read(chunk)) > 0; ) {
                    guard.writing(req); // each chunk within the write timeout: a client that stops reading is cut off
                    try {
                        out.write(chunk, 0, n);
                    } finally {
                        guard.done(req);
                    }
                }
            }
        }
    }
}
