package dev.sluice.scheduler;

/** A request that can never run (too long for the model or the KV pool), refused before any work. */
public final class RequestRejectedException extends RuntimeException {

    public RequestRejectedException(String message) {
        super(message);
    }
}
