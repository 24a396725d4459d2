package dev.sluice.api.openai;

import dev.sluice.api.http.ApiException;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.api.models.VersionStats;
import dev.sluice.scheduler.EngineService;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A copy of one client request run on a route's shadow version, on a virtual thread of its own:
 * the client never sees it and never waits for it. It runs behind every client request (a
 * scheduler priority of {@link #PRIORITY}) and within its own admission limit, so a shadow can
 * neither fill the queue nor slow the primary beyond its share of the compute lane; a copy that
 * finds no room is dropped and counted. When both answers are comparable (greedy, one choice)
 * and both finished by themselves, their tokens are compared; the shadow's end-to-end latency is
 * set against the primary's.
 */
final class ShadowCopy {

    private static final System.Logger LOG = System.getLogger(ShadowCopy.class.getName());

    /** Scheduler priority of shadow requests: client requests (priority 0 unless they ask) go first. */
    static final int PRIORITY = 1_000_000;

    /** How long a shadow waits for its primary's answer before giving up on comparing. */
    private static final Duration PRIMARY_WAIT = Duration.ofMinutes(15);

    /** The primary's answer: its tokens (null when it failed, was cut short, or is not comparable) and latency. */
    private record Primary(int[] tokens, long latencyNanos) {
    }

    private final CompletableFuture<Primary> primary = new CompletableFuture<>();

    private ShadowCopy() {
    }

    /**
     * Starts the copy of the request in {@code json} on {@code shadow}; {@code comparable}: the
     * two answers can be compared token for token.
     */
    static ShadowCopy start(GenerationEndpoint.Kind kind, Endpoints endpoints, Json json, ModelVersion shadow,
                            boolean comparable) {
        ShadowCopy copy = new ShadowCopy();
        Thread.ofVirtual().name("sluice-shadow-" + shadow.id()).start(() -> copy.run(kind, endpoints, json, shadow, comparable));
        return copy;
    }

    /** The primary finished: its tokens (null unless comparable and finished by itself) and latency. */
    void primaryDone(int[] tokens, long latencyNanos) {
        primary.complete(new Primary(tokens, latencyNanos));
    }

    private void run(GenerationEndpoint.Kind kind, Endpoints endpoints, Json json, ModelVersion shadow, boolean comparable) {
        VersionStats stats = shadow.stats();
        stats.shadowRequests.increment();
        long start = System.nanoTime();
        int[] tokens;
        try {
            EngineService service = shadow.ready();
            Prepared prepared = kind.prepare(json, service.engine(), endpoints);
            try (Submission submission = Submission.submit(service, endpoints.shadowAdmission(), endpoints.limits(),
                    prepared.prompts(), prepared.options(), prepared.maxTokens(), endpoints.requestTimeout(),
                    prepared.promptParam(), PRIORITY)) {
                submission.recordTokens();
                String error = submission.consume((choice, delta) -> { }, new ArrayList<>(), () -> { });
                if (error != null) {
                    stats.shadowFailures.increment();
                    LOG.log(System.Logger.Level.DEBUG, "shadow copy on " + shadow.id() + " failed: " + error);
                    return;
                }
                tokens = submission.recordedTokens();
            }
        } catch (ApiException e) {
            if (e.status().code() == 429) {
                stats.shadowDropped.increment();
            } else {
                stats.shadowFailures.increment();
                LOG.log(System.Logger.Level.DEBUG, "shadow copy on " + shadow.id() + " failed: " + e.getMessage());
            }
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (RuntimeException e) {
            stats.shadowFailures.increment();
            LOG.log(System.Logger.Level.WARNING, "shadow copy on " + shadow.id() + " failed", e);
            return;
        }
        long latency = System.nanoTime() - start;
        Primary p;
        try {
            p = primary.get(PRIMARY_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (ExecutionException | TimeoutException e) {
            return;
        }
        stats.shadowCompleted.increment();
        stats.shadowLatencyNanos.add(latency);
        stats.shadowPrimaryLatencyNanos.add(p.latencyNanos());
        if (comparable && tokens != null && p.tokens() != null) {
            stats.shadowCompared.increment();
            if (Arrays.equals(tokens, p.tokens())) {
                stats.shadowAgreements.increment();
            }
        }
    }
}
