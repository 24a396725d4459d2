package dev.sluice.scheduler;

import java.util.List;

/**
 * Requests that arrive together with a common prompt prefix (one system prompt, a shared
 * document, a batch's instructions) would each compute it: the prefix cache only holds blocks
 * once a step has filled them. So a waiting request whose prompt shares at least one full block
 * with a prompt still being prefilled waits until that prefill has computed the shared part; it
 * is then admitted with those blocks from the cache, and computes only its own tail. Sixteen
 * chats with one 1000-token system prompt cost one prefill of it, not sixteen.
 *
 * <p>Never holds a request for long: at most {@link #MAX_HOLD_STEPS} steps (a prefill that stops
 * making progress, its client not reading, say, does not keep others waiting). Engine-thread only.
 */
final class SharedPrefixWait {

    /** Off with {@code -Dsluice.shared-prefix-wait=false} (to measure what it saves). */
    static final boolean ENABLED = !"false".equals(System.getProperty("sluice.shared-prefix-wait"));
    /** Steps a request may be held for another's prefill before it computes the prefix itself. */
    static final int MAX_HOLD_STEPS = 256;
    /** Prefills compared per waiting request and step (bounds the cost of the check). */
    private static final int MAX_COMPARED = 32;

    private SharedPrefixWait() {
    }

    /**
     * Whether {@code waiting} should wait this step for a running prefill among {@code running}
     * that is computing a prefix (at least one full block of {@code blockSize}) of its prompt.
     */
    static boolean holds(Sequence waiting, List<Sequence> running, int blockSize) {
        if (!ENABLED || waiting.prefixHoldSteps >= MAX_HOLD_STEPS) {
            return false;
        }
        Request request = waiting.request();
        int[] prompt = waiting.tokenArray();
        int length = request.promptLength();
        int compared = 0;
        for (int i = 0; i < running.size() && compared < MAX_COMPARED; i++) {
            Sequence other = running.get(i);
            Request owner = other.request();
            int otherPrompt = owner.promptLength();
            if (other.status != SequenceStatus.RUNNING || other.computed() >= otherPrompt
                    || owner.cacheSalt() != request.cacheSalt() || owner == request
                    || BackgroundPolicy.isBackground(other) && !BackgroundPolicy.isBackground(waiting)) {
                continue; // a client never waits on background work's prefill, which gets only a share of steps
            }
            compared++;
            int shared = commonPrefix(prompt, length, other.tokenArray(), otherPrompt) / blockSize * blockSize;
            if (shared >= blockSize && other.computed() < shared) {
                waiting.prefixHoldSteps++;
                return true;
            }
        }
        return false;
    }

    private static int commonPrefix(int[] a, int aLength, int[] b, int bLength) {
        int n = Math.min(aLength, bLength);
        int i = 0;
        while (i < n && a[i] == b[i]) {
            i++;
        }
        return i;
    }
}
