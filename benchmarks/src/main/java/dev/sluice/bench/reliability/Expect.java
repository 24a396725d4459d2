package dev.sluice.bench.reliability;

/** What a proper answer to a fuzz case is. */
public enum Expect {
    /** Malformed or hostile: only a 4xx with OpenAI's error shape is proper. */
    REJECT,
    /** Possibly valid: a 2xx, or a 4xx with OpenAI's error shape. */
    ACCEPT_OR_REJECT,
    /**
     * An unfinished request (slowloris, truncated headers or body left open): the server must end
     * it within the wait, with a 4xx in OpenAI's shape or by closing the connection.
     */
    CUT_OFF,
    /**
     * Bytes a server cannot read as an HTTP/1.1 request (another version, a garbage or
     * version-less request line, bare LF line ends, a request line far over its limit): a 4xx in
     * OpenAI's shape, or closing the connection, which is what a server that cannot read the
     * bytes as a request can honestly do (Helidon does).
     */
    UNREADABLE
}
