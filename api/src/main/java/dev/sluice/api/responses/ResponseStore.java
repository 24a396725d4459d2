package dev.sluice.api.responses;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Stored responses, in memory and bounded three ways: at most {@code maxCount} of them
 * ({@code --responses-max-stored}), none older than {@code maxAgeMillis}
 * ({@code --responses-max-age}), and their own items' JSON at most {@code maxBytes} in all
 * ({@code --responses-max-stored-bytes}); past a bound the least recently used go first. They do
 * not outlive the process (unlike batches, they are a cache of conversations, and clients that
 * need them longer keep their own history and send it as {@code input}).
 */
final class ResponseStore {

    private final int maxCount;
    private final long maxAgeMillis;
    private final long maxBytes;
    private final LinkedHashMap<String, StoredResponse> byId = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;
    private long lastExpiry;

    ResponseStore(int maxCount, long maxAgeMillis, long maxBytes) {
        this.maxCount = maxCount;
        this.maxAgeMillis = maxAgeMillis;
        this.maxBytes = maxBytes;
    }

    synchronized void put(String id, StoredResponse response) {
        if (maxCount == 0 || response.bytes() > maxBytes) {
            return;
        }
        StoredResponse old = byId.put(id, response);
        if (old != null) {
            bytes -= old.bytes();
        }
        bytes += response.bytes();
        expire(System.currentTimeMillis());
        Iterator<Map.Entry<String, StoredResponse>> it = byId.entrySet().iterator();
        while ((byId.size() > maxCount || bytes > maxBytes) && it.hasNext()) {
            bytes -= it.next().getValue().bytes();
            it.remove();
        }
    }

    synchronized Optional<StoredResponse> get(String id) {
        long now = System.currentTimeMillis();
        expire(now);
        StoredResponse r = byId.get(id);
        if (r != null && now - r.storedAtMillis() > maxAgeMillis) {
            delete(id);
            return Optional.empty();
        }
        return Optional.ofNullable(r);
    }

    synchronized boolean delete(String id) {
        StoredResponse old = byId.remove(id);
        if (old != null) {
            bytes -= old.bytes();
        }
        return old != null;
    }

    synchronized int size() {
        return byId.size();
    }

    /**
     * Drops those past their age, at most once a second: access order is not age order, so every
     * entry is looked at.
     */
    private void expire(long now) {
        if (now - lastExpiry < 1000) {
            return;
        }
        lastExpiry = now;
        Iterator<Map.Entry<String, StoredResponse>> it = byId.entrySet().iterator();
        while (it.hasNext()) {
            StoredResponse r = it.next().getValue();
            if (now - r.storedAtMillis() > maxAgeMillis) {
                bytes -= r.bytes();
                it.remove();
            }
        }
    }
}
