package dev.sluice.api.structured;

/** A schema that is not a valid JSON Schema (a wrong type for a keyword, a dangling {@code $ref}, nothing can satisfy it). */
public final class InvalidSchemaException extends IllegalArgumentException {

    private final String path;

    public InvalidSchemaException(String path, String message) {
        super(message);
        this.path = path;
    }

    /** A JSON pointer to the (sub)schema at fault; {@code ""} is the root. */
    public String path() {
        return path;
    }
}
