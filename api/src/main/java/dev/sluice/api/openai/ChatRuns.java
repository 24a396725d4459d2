package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.models.Router;
import dev.sluice.api.tools.ToolSession;
import dev.sluice.scheduler.EngineService;
import dev.sluice.scheduler.RequestUsage;
import dev.sluice.scheduler.SequenceDelta;

import java.util.List;
import java.util.function.Consumer;

/**
 * Chat generation for endpoints outside this package (the Responses API): a body in chat
 * completions' shape is validated, templated, tokenized and submitted exactly as
 * {@code /v1/chat/completions} does it ({@link ChatEndpoint#prepare}, {@link Submission}), under
 * the same admission, limits and deadline. One choice per run.
 */
public final class ChatRuns {

    private final Endpoints endpoints;

    ChatRuns(Endpoints endpoints) {
        this.endpoints = endpoints;
    }

    public Router router() {
        return endpoints.router();
    }

    public long maxBodyBytes() {
        return endpoints.maxBodyBytes();
    }

    public ConnectionGuard guard() {
        return endpoints.guard();
    }

    /**
     * Prepares {@code chatBody} for {@code service}'s model and submits it; every problem is the
     * {@link dev.sluice.api.http.ApiException} chat completions would give (its {@code param}
     * names chat's fields). The caller must {@link Run#close()} what it gets.
     */
    public Run start(ObjectNode chatBody, EngineService service) {
        Prepared prepared = new ChatEndpoint().prepare(Json.of(chatBody), service.engine(), endpoints);
        Submission submission = Submission.submit(service, endpoints.admission(), endpoints.limits(),
                prepared.prompts(), prepared.options(), prepared.maxTokens(), endpoints.requestTimeout(),
                prepared.promptParam(), prepared.options().priority());
        return new Run(submission, prepared);
    }

    /** One submitted chat request. */
    public static final class Run implements AutoCloseable {
        private final Submission submission;
        private final Prepared prepared;

        private Run(Submission submission, Prepared prepared) {
            this.submission = submission;
            this.prepared = prepared;
        }

        /** The request's tool use (its reply is read for calls when it {@link ToolSession#parses}). */
        public ToolSession tools() {
            return prepared.tools();
        }

        /**
         * Feeds every delta to {@code handler} until the request is done, adding its usage to
         * {@code usages}; runs {@code idle} after 15 s of silence. Returns the engine's error or null.
         */
        public String consume(Consumer<SequenceDelta> handler, List<RequestUsage> usages, Runnable idle)
                throws InterruptedException {
            return submission.consume((choice, delta) -> handler.accept(delta), usages, idle);
        }

        public long timeToFirstTokenNanos() {
            return submission.timeToFirstTokenNanos();
        }

        /** Stops the request in the scheduler (its KV blocks are freed within a step); a no-op once done. */
        public void cancel() {
            submission.cancel();
        }

        @Override
        public void close() {
            submission.close();
        }
    }
}
