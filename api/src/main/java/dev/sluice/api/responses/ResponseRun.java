package dev.sluice.api.responses;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.http.SseWriter;
import dev.sluice.api.openai.ChatRuns;
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
import java.util.function.Consumer;

/**
 * One response being generated: its engine request's output read into {@link OutputItems}, and
 * the result sent as one body or as the event stream. {@code finished} receives the final object
 * before the client can see that it is done (so a {@code GET} right after finds it stored).
 */
final class ResponseRun {

    private final ResponseObject shape;
    private final ChatRuns.Run run;
    private final Consumer<ObjectNode> finished;

    ResponseRun(ResponseObject shape, ChatRuns.Run run, Consumer<ObjectNode> finished) {
        this.shape = shape;
        this.run = run;
        this.finished = finished;
    }

    /** The object before any output. */
    ObjectNode inProgress() {
        return shape.render("in_progress", List.of(), null, null, null);
    }

    /** A non-streaming response: the object once done; a client that goes away cancels it. An engine failure is a 500. */
    void respond(ServerRequest req, ServerResponse res, ConnectionGuard guard) throws InterruptedException {
        guard.onClientGone(req, run::cancel);
        OutputItems out = new OutputItems(run.tools(), OutputItems.EventSink.NONE);
        ObjectNode result = generate(out, () -> { });
        finished.accept(result);
        if (result.get("status").textValue().equals("failed")) {
            throw new ApiException(Status.INTERNAL_SERVER_ERROR_500, "server_error",
                    result.get("error").get("message").textValue(), null, null);
        }
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(bytes(result));
    }

    /** The event stream; a client that goes away cancels it. Returns whether the engine failed it. */
    boolean stream(ServerRequest req, ServerResponse res, ConnectionGuard guard) throws InterruptedException {
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        res.header("X-Accel-Buffering", "no"); // nginx: do not buffer the stream
        try (OutputStream os = res.outputStream()) {
            EventStream events = new EventStream(new SseWriter(os, guard, req));
            ObjectNode start = inProgress();
            events.response("response.created", start);
            events.response("response.in_progress", start);
            ObjectNode result = generate(new OutputItems(run.tools(), events), events::keepAlive);
            finished.accept(result);
            String status = result.get("status").textValue();
            if (status.equals("cancelled")) {
                guard.closeAfterResponse(req); // ended by the server: close the connection after it (see Responder)
            }
            events.response(switch (status) {
                case "completed" -> "response.completed";
                case "failed" -> "response.failed";
                default -> "response.incomplete"; // incomplete, or cancelled (OpenAI has no event of its own for it)
            }, result);
            return status.equals("failed");
        } catch (SseWriter.ClientGoneException | UncheckedIOException | IOException e) {
            run.cancel();
            return false;
        }
    }

    private ObjectNode generate(OutputItems out, Runnable idle) throws InterruptedException {
        FinishReason[] finish = {null};
        List<RequestUsage> usages = new ArrayList<>();
        String error = run.consume(d -> {
            out.feed(d.text());
            if (d.isFinished()) {
                finish[0] = d.finishReason();
            }
        }, usages, idle);
        if (error != null || finish[0] == FinishReason.ERROR) {
            return shape.render("failed", out.finish("incomplete"), usages, null,
                    error != null ? error : "The engine failed while generating the response.");
        }
        if (finish[0] == FinishReason.CANCELLED) {
            return shape.render("cancelled", out.finish("incomplete"), usages, null, null);
        }
        if (finish[0] == FinishReason.LENGTH || finish[0] == FinishReason.TIMEOUT) {
            return shape.render("incomplete", out.finish("incomplete"), usages, "max_output_tokens", null);
        }
        return shape.render("completed", out.finish("completed"), usages, null, null);
    }

    static byte[] bytes(ObjectNode node) {
        try {
            return dev.sluice.api.openai.Json.MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
