package dev.sluice.api.models;

import dev.sluice.api.http.ApiException;
import io.helidon.webserver.ServerConnectionException;

import java.io.UncheckedIOException;

/**
 * Runs one request on a model version and records its outcome with {@link Router#recordResult},
 * which counts it for the version's route (its canary guard). A server error counts against the
 * version; a client's bad request (a 4xx) or a client that went away does not.
 */
public final class VersionOutcome {

    /** Serves the request; returns whether the engine failed it, and sets {@code ttft[0]} (nanos) once known. */
    @FunctionalInterface
    public interface Call {
        boolean serve(long[] ttft) throws InterruptedException;
    }

    private VersionOutcome() {
    }

    public static void record(Router router, ModelVersion version, Call call) throws InterruptedException {
        long[] ttft = {-1};
        boolean failed = true;
        try {
            failed = call.serve(ttft);
        } catch (ApiException e) {
            failed = e.status().code() >= 500;
            throw e;
        } catch (UncheckedIOException | ServerConnectionException e) {
            failed = false;
            throw e;
        } finally {
            router.recordResult(version, failed, ttft[0]);
        }
    }
}
