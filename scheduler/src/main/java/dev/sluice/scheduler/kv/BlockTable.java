package dev.sluice.scheduler.kv;

import java.util.Arrays;

/**
 * One sequence's logical-to-physical block mapping, in order. Also exposes the ids as an
 * {@code int[]} prefix that the engine's batch reads without copying.
 */
public final class BlockTable {

    private KvBlock[] blocks = new KvBlock[8];
    private int[] ids = new int[8];
    private long[] hashes = new long[8];
    private int size;
    /** Leading full blocks whose content hash is known (and cached, unless another block holds it). */
    int hashedBlocks;
    /** Blocks the sequence is expected to reach (its prompt and room for output), 0 when unknown. */
    int expectedBlocks;
    /** The free blocks [claimFrom, claimTo) claimed for the sequence to grow into ({@link BlockPool}). */
    int claimFrom;
    int claimTo;

    public int size() {
        return size;
    }

    public KvBlock get(int i) {
        return blocks[i];
    }

    public KvBlock last() {
        return size == 0 ? null : blocks[size - 1];
    }

    /** The physical ids; entries past {@link #size()} are stale. */
    public int[] ids() {
        return ids;
    }

    void add(KvBlock block) {
        if (size == blocks.length) {
            blocks = Arrays.copyOf(blocks, size * 2);
            ids = Arrays.copyOf(ids, size * 2);
            hashes = Arrays.copyOf(hashes, size * 2);
        }
        blocks[size] = block;
        ids[size] = block.id();
        size++;
    }

    void set(int i, KvBlock block) {
        blocks[i] = block;
        ids[i] = block.id();
    }

    long hash(int i) {
        return hashes[i];
    }

    void setHash(int i, long hash) {
        hashes[i] = hash;
    }

    void clear() {
        Arrays.fill(blocks, 0, size, null);
        size = 0;
        hashedBlocks = 0;
    }

    @Override
    public String toString() {
        return Arrays.toString(Arrays.copyOf(ids, size));
    }
}
