package dev.sluice.engine.sampling;

import java.util.Arrays;

/**
 * How often each token id occurred in a sequence: an open-addressing map from id to count whose
 * entries are also kept densely in insertion order, so that applying penalties walks only the
 * distinct tokens seen, not the whole vocabulary.
 */
final class TokenCounts {

    private static final int FREE = -1;

    private int[] tokens = new int[16];
    private int[] counts = new int[16];
    private int size;
    private int[] slots = freeSlots(32); // index into tokens, or FREE; at most half full

    void add(int token) {
        int mask = slots.length - 1;
        int slot = hash(token) & mask;
        for (int index; (index = slots[slot]) != FREE; slot = (slot + 1) & mask) {
            if (tokens[index] == token) {
                counts[index]++;
                return;
            }
        }
        if (size == tokens.length) {
            tokens = Arrays.copyOf(tokens, size * 2);
            counts = Arrays.copyOf(counts, size * 2);
        }
        tokens[size] = token;
        counts[size] = 1;
        slots[slot] = size++;
        if (size * 2 > slots.length) {
            rehash(slots.length * 2);
        }
    }

    /** An independent copy. */
    TokenCounts copy() {
        TokenCounts copy = new TokenCounts();
        copy.tokens = tokens.clone();
        copy.counts = counts.clone();
        copy.size = size;
        copy.slots = slots.clone();
        return copy;
    }

    /** Distinct tokens seen. */
    int size() {
        return size;
    }

    /** The {@code i}-th distinct token, in order of first occurrence. */
    int token(int i) {
        return tokens[i];
    }

    /** How often {@link #token(int) token(i)} occurred. */
    int count(int i) {
        return counts[i];
    }

    private void rehash(int capacity) {
        slots = freeSlots(capacity);
        int mask = capacity - 1;
        for (int index = 0; index < size; index++) {
            int slot = hash(tokens[index]) & mask;
            while (slots[slot] != FREE) {
                slot = (slot + 1) & mask;
            }
            slots[slot] = index;
        }
    }

    private static int hash(int token) {
        int h = token * 0x9E3779B9; // Fibonacci hashing spreads consecutive ids over the table
        return h ^ (h >>> 16);
    }

    private static int[] freeSlots(int capacity) {
        int[] slots = new int[capacity];
        Arrays.fill(slots, FREE);
        return slots;
    }
}
