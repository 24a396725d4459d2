package dev.sluice.api.responses;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.openai.Json;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stored responses' bounds: count, bytes and age, the least recently used going first. */
class ResponseStoreTest {

    private static StoredResponse response(long storedAt, long bytes) {
        ObjectNode r = Json.MAPPER.createObjectNode();
        return new StoredResponse(r, List.of(), List.of(), storedAt, bytes);
    }

    @Test
    void theLeastRecentlyUsedGoFirstPastTheCount() {
        ResponseStore store = new ResponseStore(2, 60_000, 1_000_000);
        long now = System.currentTimeMillis();
        store.put("a", response(now, 10));
        store.put("b", response(now, 10));
        assertTrue(store.get("a").isPresent()); // a is now more recent than b
        store.put("c", response(now, 10));
        assertEquals(2, store.size());
        assertTrue(store.get("a").isPresent());
        assertFalse(store.get("b").isPresent());
        assertTrue(store.get("c").isPresent());
    }

    @Test
    void bytesBoundTheTotalAndOneTooLargeIsNotStored() {
        ResponseStore store = new ResponseStore(100, 60_000, 100);
        long now = System.currentTimeMillis();
        store.put("a", response(now, 60));
        store.put("b", response(now, 60));
        assertFalse(store.get("a").isPresent());
        assertTrue(store.get("b").isPresent());
        store.put("huge", response(now, 101));
        assertFalse(store.get("huge").isPresent());
        assertTrue(store.get("b").isPresent());
        assertTrue(store.delete("b"));
        assertFalse(store.delete("b"));
        store.put("c", response(now, 100));
        assertTrue(store.get("c").isPresent(), "deleting gave its bytes back");
    }

    @Test
    void expiredResponsesAreGone() {
        ResponseStore store = new ResponseStore(100, 1_000, 1_000_000);
        long now = System.currentTimeMillis();
        store.put("old", response(now - 5_000, 10));
        store.put("new", response(now, 10));
        assertFalse(store.get("old").isPresent());
        assertTrue(store.get("new").isPresent());
    }

    @Test
    void zeroStoresNothing() {
        ResponseStore store = new ResponseStore(0, 1_000, 1_000_000);
        store.put("a", response(System.currentTimeMillis(), 1));
        assertFalse(store.get("a").isPresent());
    }
}
