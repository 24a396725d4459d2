package dev.sluice.engine.model;

/** The model file is valid GGUF but describes something the engine cannot run. */
public final class UnsupportedModelException extends RuntimeException {

    public UnsupportedModelException(String message) {
        super(message);
    }
}
