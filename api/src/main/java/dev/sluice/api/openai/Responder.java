package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.http.SseWriter;
import dev.sluice.engine.sampling.SampledToken;
import dev.sluice.scheduler.FinishReason;
import dev.sluice.scheduler.RequestUsage;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a {@link Submission}'s output in OpenAI's shapes, as one Server-Sent Events stream (a
 * chunk per delta, flushed at once; finish chunks; the usage chunk when asked; {@code [DONE]}) or
 * as one body once every choice has finished. The {@link ChoiceFormat} decides what a choice
 * looks like; everything else is the same for chat and completions.
 */
final class Responder {

    private Responder() {
    }

    /**
     * A stream; a client that disconnects cancels the submission. Returns the engine's error
     * (sent to the client as an error event) or null.
     */
    static String stream(ServerRequest req, ServerResponse res, ConnectionGuard guard, Submission submission,
                       ChoiceFormat format, Envelope envelope, boolean includeUsage) throws InterruptedException {
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        res.header("X-Accel-Buffering", "no"); // nginx: do not buffer the stream
        try (OutputStream out = res.outputStream()) {
            SseWriter sse = new SseWriter(out, guard, req);
            ChunkBytes chunks = new ChunkBytes(envelope.object(format.chunkObject()), includeUsage);
            ChoiceFormat.ChunkSink sink = (choice, field, value, logprobs, finish) ->
                    sse.event(chunks.chunk(choice, field, value, logprobs, finish));
            format.begin(sink);
            List<RequestUsage> usages = new ArrayList<>();
            boolean[] aborted = {false};
            String error = submission.consume((choice, d) -> {
                format.delta(sink, choice, d);
                if (d.isFinished() && d.finishReason() != FinishReason.ERROR) {
                    format.finish(sink, choice, d.finishReason());
                }
                aborted[0] |= d.finishReason() == FinishReason.CANCELLED;
            }, usages, sse::keepAlive);
            if (aborted[0]) {
                // The server ended it (a client that stopped reading, a shutdown): the stream still
                // ends well-formed, and then the connection closes rather than wait to be reused.
                guard.closeAfterResponse(req);
            }
            if (error != null) {
                sse.event(bytes(Responses.error(error, "server_error", null, null)));
            } else if (includeUsage) {
                ObjectNode chunk = envelope.object(format.chunkObject());
                chunk.putArray("choices");
                chunk.set("usage", Responses.usage(usages));
                sse.event(bytes(chunk));
            }
            sse.done();
            return error;
        } catch (SseWriter.ClientGoneException | UncheckedIOException | IOException e) {
            submission.cancel();
            return null;
        }
    }

    /** One body with every choice; a client that disconnects meanwhile cancels the submission. */
    static void respond(ServerRequest req, ServerResponse res, ConnectionGuard guard, Submission submission,
                        ChoiceFormat format, Envelope envelope) throws InterruptedException {
        guard.onClientGone(req, submission::cancel);
        ObjectNode body = body(submission, format, envelope, new ArrayList<>());
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(bytes(body));
    }

    /**
     * Waits for every choice and returns the non-streaming response body (its usages summed into
     * it and added to {@code usages}); a failed engine request is a 500 {@link ApiException}.
     */
    static ObjectNode body(Submission submission, ChoiceFormat format, Envelope envelope, List<RequestUsage> usages)
            throws InterruptedException {
        int choices = submission.choices();
        StringBuilder[] text = new StringBuilder[choices];
        List<List<SampledToken>> logprobs = new ArrayList<>(choices);
        FinishReason[] finish = new FinishReason[choices];
        for (int c = 0; c < choices; c++) {
            text[c] = new StringBuilder();
            logprobs.add(new ArrayList<>());
        }
        List<RequestUsage> own = new ArrayList<>();
        String error = submission.consume((c, d) -> {
            text[c].append(d.text());
            logprobs.get(c).addAll(d.logprobs());
            if (d.isFinished()) {
                finish[c] = d.finishReason();
            }
        }, own, () -> { });
        if (error != null) {
            throw new ApiException(Status.INTERNAL_SERVER_ERROR_500, "server_error", error, null, null);
        }
        ObjectNode body = envelope.object(format.object());
        ArrayNode array = body.putArray("choices");
        for (int c = 0; c < choices; c++) {
            array.add(format.choice(c, text[c].toString(), logprobs.get(c), finish[c]));
        }
        body.set("usage", Responses.usage(own));
        usages.addAll(own);
        return body;
    }

    static byte[] bytes(JsonNode node) {
        try {
            return Json.MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What every object of one response shares: its id, creation time and model. */
    record Envelope(String id, long created, String model) {
        static Envelope create(String prefix, String model) {
            return new Envelope(Responses.newId(prefix), System.currentTimeMillis() / 1000, model);
        }

        ObjectNode object(String object) {
            return Responses.envelope(id, object, created, model);
        }
    }
}
