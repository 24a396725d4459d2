package dev.sluice.api.responses;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.openai.ChatRuns;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The responses being generated now, by id: what {@code POST /v1/responses/{id}/cancel} stops
 * and {@code GET /v1/responses/{id}} shows while they run. Bounded by admission: each holds a
 * submitted request.
 */
final class InFlight {

    /** A running response: its engine request, its current state, and its final object once done. */
    record Entry(ChatRuns.Run run, Supplier<ObjectNode> snapshot, CompletableFuture<ObjectNode> result) {
    }

    private final ConcurrentHashMap<String, Entry> running = new ConcurrentHashMap<>();

    Entry add(String id, ChatRuns.Run run, Supplier<ObjectNode> snapshot) {
        Entry entry = new Entry(run, snapshot, new CompletableFuture<>());
        running.put(id, entry);
        return entry;
    }

    /** The response is done (or failed): {@code result} is its final object, or null if it has none. */
    void remove(String id, ObjectNode result) {
        Entry entry = running.remove(id);
        if (entry != null) {
            entry.result().complete(result);
        }
    }

    Optional<Entry> get(String id) {
        return Optional.ofNullable(running.get(id));
    }
}
