package dev.sluice.api.responses;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * A finished response kept for {@code GET}, {@code input_items} and {@code previous_response_id}.
 *
 * @param conversation every item that led to it and its output, in order: what a response that
 *                     continues it puts before its own input (items are shared with the responses
 *                     before it, not copied)
 * @param input        its own input items
 * @param bytes        what its own items and object cost, roughly (their JSON length), for the store's bound
 */
record StoredResponse(ObjectNode response, List<ObjectNode> conversation, List<ObjectNode> input, long storedAtMillis,
                      long bytes) {
}
