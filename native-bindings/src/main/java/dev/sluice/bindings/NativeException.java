package dev.sluice.bindings;

/** A native call failed, or native state was used in a way that would crash the process. */
public class NativeException extends RuntimeException {

    public NativeException(String message) {
        super(message);
    }

    public NativeException(String message, Throwable cause) {
        super(message, cause);
    }
}
