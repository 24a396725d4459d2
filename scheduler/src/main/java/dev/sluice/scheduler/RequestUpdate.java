package dev.sluice.scheduler;

import java.util.List;

/**
 * Everything new in a request's stream since the last read. {@code done} is set once every
 * sequence has finished and this update carries the last of their output; {@code usage} comes
 * with it. {@code error} is set when the engine failed the request.
 */
public record RequestUpdate(List<SequenceDelta> deltas, boolean done, RequestUsage usage, String error) {
}
