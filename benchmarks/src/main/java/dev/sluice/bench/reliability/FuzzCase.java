package dev.sluice.bench.reliability;

import java.util.function.Supplier;

/**
 * One generated request: the exact bytes to put on the wire (request line, headers and body),
 * made on demand because a few are many megabytes, and how to send them.
 *
 * @param id       position in the generated list, stable for a seed
 * @param summary  one line for the report, e.g. {@code POST /v1/completions: max_tokens = 1e400}
 * @param key      what makes the case distinct (its bytes' hash, or its summary for big ones)
 * @param heavy    megabytes of body, or the hostile requests that can keep the engine busy for
 *                 long: sent one at a time, each followed by a check, so what it does is its own
 */
public record FuzzCase(int id, Category category, String summary, Expect expect, Send send,
                       Supplier<byte[]> request, String key, boolean heavy) {

    /**
     * How the bytes go out.
     *
     * @param bytesPerTick 0: all at once; else this many bytes, then a pause of {@code tickMillis}
     * @param halfClose    shut the socket's output once everything is sent
     * @param hold         the request never completes by design: wait for the server to end it
     *                     (the suite's socket wait), not for a response to a complete request
     */
    public record Send(int bytesPerTick, long tickMillis, boolean halfClose, boolean hold) {
        public static final Send NORMAL = new Send(0, 0, false, false);
        public static final Send HOLD = new Send(0, 0, false, true);
        public static final Send HALF_CLOSE = new Send(0, 0, true, false);

        public static Send slow(int bytesPerTick, long tickMillis) {
            return new Send(bytesPerTick, tickMillis, false, true);
        }

        public boolean slow() {
            return bytesPerTick > 0;
        }
    }

    FuzzCase withId(int newId) {
        return new FuzzCase(newId, category, summary, expect, send, request, key, heavy);
    }
}
