package dev.sluice.scheduler.kv;

import java.util.Arrays;

/** Physical block copies (source → target) the engine must run before the next forward pass. */
public final class BlockCopies {

    private int[] sources = new int[4];
    private int[] targets = new int[4];
    private int size;

    void add(int source, int target) {
        if (size == sources.length) {
            sources = Arrays.copyOf(sources, size * 2);
            targets = Arrays.copyOf(targets, size * 2);
        }
        sources[size] = source;
        targets[size] = target;
        size++;
    }

    public int size() {
        return size;
    }

    public int source(int i) {
        return sources[i];
    }

    public int target(int i) {
        return targets[i];
    }

    public void clear() {
        size = 0;
    }
}
