package dev.sluice.bench.reliability;

/** The kinds of malformed or hostile requests the fuzz phase sends; every run covers all of them. */
public enum Category {
    INVALID_JSON("invalid JSON"),
    INVALID_UTF8("invalid UTF-8 bytes"),
    WRONG_TYPE("wrong types, every field of chat and completions"),
    OUT_OF_RANGE("out-of-range numbers (huge ints, 1e400, -0, fractions)"),
    NON_FINITE("non-finite numbers (NaN, Infinity as tokens and as text)"),
    DEEP_NESTING("deep nesting (up to 100k brackets)"),
    HUGE("huge arrays and strings"),
    UNKNOWN_ROLE("unknown chat roles"),
    DUPLICATE_KEYS("duplicate keys"),
    FIELD_VALUES("every documented field with edge values"),
    CONTENT_TYPE("wrong content types"),
    METHOD("wrong methods and paths"),
    HOSTILE("the hardening issue's hostile requests"),
    RAW_SOCKET("raw-socket cases: truncated headers and bodies, bogus Content-Length, slowloris");

    private final String description;

    Category(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
