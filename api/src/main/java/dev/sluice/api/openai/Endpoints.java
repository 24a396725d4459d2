package dev.sluice.api.openai;

import dev.sluice.api.Admission;
import dev.sluice.api.ServedModel;
import dev.sluice.api.http.ConnectionGuard;

import java.time.Duration;

/**
 * What the generation endpoints share: the model, the body limit, admission, the connection
 * guard, the per-request limits and the request deadline.
 */
record Endpoints(ServedModel served, long maxBodyBytes, Admission admission, ConnectionGuard guard,
                 RequestLimits limits, Duration requestTimeout) {
}
