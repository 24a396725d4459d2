package dev.sluice.scheduler;

import dev.sluice.engine.kv.HostSwapArea;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.runner.Batch;
import dev.sluice.engine.runner.Logits;
import dev.sluice.engine.runner.ModelRunner;

/** The real {@link ModelExecutor}: the engine's runner, KV cache and host swap area. */
public final class EngineExecutor implements ModelExecutor {

    private final ModelRunner runner;
    private final KvCache cache;
    private final HostSwapArea swap;

    public EngineExecutor(ModelRunner runner, KvCache cache, HostSwapArea swap) {
        this.runner = runner;
        this.cache = cache;
        this.swap = swap;
    }

    @Override
    public void copyBlock(int source, int target) {
        cache.copyBlock(source, target);
    }

    @Override
    public void swapOut(int block, int slot) {
        swap.swapOut(block, slot);
    }

    @Override
    public void swapIn(int slot, int block) {
        swap.swapIn(slot, block);
    }

    @Override
    public Logits forward(Batch batch) {
        return runner.forward(batch);
    }

    /** The engine's pieces are closed by their owner; nothing to release here. */
    @Override
    public void close() {
    }
}
