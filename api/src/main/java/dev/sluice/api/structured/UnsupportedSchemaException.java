package dev.sluice.api.structured;

/**
 * A schema (or regular expression) uses a feature the grammar compiler cannot enforce, or one
 * whose grammar would exceed the size bound. Sluice refuses such a request instead of silently
 * generating output the schema does not allow.
 */
public final class UnsupportedSchemaException extends IllegalArgumentException {

    private final String keyword;
    private final String path;

    /**
     * @param keyword the schema keyword at fault ({@code "uniqueItems"}, {@code "pattern"}, ...)
     * @param path    a JSON pointer to the schema that holds it ({@code ""} for the root)
     */
    public UnsupportedSchemaException(String keyword, String path, String message) {
        super(message);
        this.keyword = keyword;
        this.path = path;
    }

    /** The keyword at fault. */
    public String keyword() {
        return keyword;
    }

    /** A JSON pointer to the (sub)schema that holds {@link #keyword()}; {@code ""} is the root. */
    public String path() {
        return path;
    }
}
