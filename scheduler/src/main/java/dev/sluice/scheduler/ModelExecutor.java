package dev.sluice.scheduler;

import dev.sluice.engine.runner.Batch;
import dev.sluice.engine.runner.Logits;

/**
 * What the engine loop needs from a model: the KV block operations a scheduled step asks for,
 * and the forward pass. The real one wraps the engine ({@link EngineExecutor}); tests use a fake
 * that needs no model. Called only from the engine thread.
 */
public interface ModelExecutor extends AutoCloseable {

    /** Copies block {@code source} into block {@code target} (copy-on-write). */
    void copyBlock(int source, int target);

    /** Moves block {@code block}'s contents into host swap slot {@code slot}. */
    void swapOut(int block, int slot);

    /** Restores host swap slot {@code slot} into block {@code block}. */
    void swapIn(int slot, int block);

    /** Runs one step; the logits are valid until the next call. */
    Logits forward(Batch batch);

    @Override
    void close();
}
