package dev.sluice.api.openai;

import dev.sluice.api.Admission;
import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.models.Router;

import java.time.Duration;

/**
 * What the generation endpoints share: the router to model versions, the body limit, admission
 * (clients' and, apart, shadow copies'), the connection guard, the per-request limits and the
 * request deadline.
 */
record Endpoints(Router router, long maxBodyBytes, Admission admission, Admission shadowAdmission,
                 ConnectionGuard guard, RequestLimits limits, Duration requestTimeout) {
}
