package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SampledToken;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A request's output channel, from the engine thread to one consumer (an HTTP handler).
 *
 * <p>The engine never blocks on it: output the consumer has not read yet is merged into one
 * pending delta per sequence, so a slow client costs memory proportional to its unread text,
 * never another request's latency. Past {@link #BACKPRESSURE_CHARS} unread characters the
 * stream reports {@link #isBackedUp()} and the scheduler stops running the request until the
 * consumer catches up.
 */
public final class RequestStream {

    /** Unread output beyond which the request is paused. */
    public static final int BACKPRESSURE_CHARS = 64 * 1024;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Pending[] pending;
    private final int backpressureChars;
    private int unreadChars;
    private boolean complete;
    private boolean delivered;
    private RequestUsage usage;
    private String error;
    private volatile boolean backedUp;
    /** When the oldest output the consumer has not taken yet was produced; 0 when it has taken all. */
    private volatile long unreadSinceNanos;
    /** Told of every change, after the stream's own waiters; see {@link #onChange}. */
    private volatile Runnable listener = () -> { };

    private static final class Pending {
        final StringBuilder text = new StringBuilder();
        int[] tokens = new int[8];
        int tokenCount;
        List<SampledToken> logprobs;
        FinishReason finish;
        boolean finishDelivered;
        boolean touched;
    }

    RequestStream(int sequences, int backpressureChars) {
        this.backpressureChars = backpressureChars;
        pending = new Pending[sequences];
        for (int i = 0; i < sequences; i++) {
            pending[i] = new Pending();
        }
    }

    // ---- engine side -------------------------------------------------------------------------

    /** Appends one token's output to sequence {@code index}; {@code logprobs} may be null. */
    void emit(int index, String text, int token, SampledToken logprobs) {
        lock.lock();
        try {
            Pending p = pending[index];
            p.text.append(text);
            if (p.tokenCount == p.tokens.length) {
                p.tokens = Arrays.copyOf(p.tokens, p.tokenCount * 2);
            }
            p.tokens[p.tokenCount++] = token;
            if (logprobs != null) {
                if (p.logprobs == null) {
                    p.logprobs = new ArrayList<>();
                }
                p.logprobs.add(logprobs);
            }
            p.touched = true;
            unreadChars += text.length();
            backedUp = unreadChars > backpressureChars;
            markUnread();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        listener.run();
    }

    /** Text released at the end of a sequence (held-back bytes, a partial stop-string match). */
    void emitText(int index, String text) {
        if (text.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            pending[index].text.append(text);
            pending[index].touched = true;
            unreadChars += text.length();
            markUnread();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        listener.run();
    }

    void finish(int index, FinishReason reason) {
        lock.lock();
        try {
            if (pending[index].finish == null) {
                pending[index].finish = reason;
                pending[index].touched = true;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        listener.run();
    }

    /** All sequences have finished; no more output will come. */
    void complete(RequestUsage usage) {
        lock.lock();
        try {
            this.usage = usage;
            this.complete = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        listener.run();
    }

    /** The engine could not run the request. */
    void fail(String message) {
        lock.lock();
        try {
            this.error = message;
            this.complete = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        listener.run();
    }

    /** True while the consumer is far behind: the scheduler pauses the request. */
    public boolean isBackedUp() {
        return backedUp;
    }

    /**
     * True when output has waited for the consumer longer than {@code timeoutNanos}: its client
     * stopped reading (a consumer blocked writing to a socket nobody reads does not come back).
     */
    public boolean isStalled(long nowNanos, long timeoutNanos) {
        long since = unreadSinceNanos;
        return since != 0 && nowNanos - since > timeoutNanos;
    }

    private void markUnread() {
        if (unreadSinceNanos == 0) {
            unreadSinceNanos = System.nanoTime();
        }
    }

    void wakeUp() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        listener.run();
    }

    /**
     * Runs {@code listener} after every change (new output, a finish, completion, a cancel):
     * how one consumer waits on several streams without polling them. It runs on the thread that
     * made the change (mostly the engine thread), so it must only signal, never block.
     */
    public void onChange(Runnable listener) {
        this.listener = listener;
    }

    /** Everything new, without waiting: null when there is nothing. */
    public RequestUpdate poll() {
        lock.lock();
        try {
            return hasNews() ? drain() : null;
        } finally {
            lock.unlock();
        }
    }

    // ---- consumer side -----------------------------------------------------------------------

    /**
     * Waits up to {@code timeout} for news and returns everything new, or null on timeout. After
     * the update with {@code done} set, returns that final state again immediately.
     */
    public RequestUpdate next(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        lock.lock();
        try {
            while (!hasNews()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                changed.awaitNanos(left);
            }
            return drain();
        } finally {
            lock.unlock();
        }
    }

    /** Whether the final update has been handed out. */
    public boolean isDone() {
        lock.lock();
        try {
            return delivered;
        } finally {
            lock.unlock();
        }
    }

    private boolean hasNews() {
        if (complete) {
            return true;
        }
        for (Pending p : pending) {
            if (p.touched) {
                return true;
            }
        }
        return false;
    }

    private RequestUpdate drain() {
        List<SequenceDelta> deltas = new ArrayList<>();
        for (int i = 0; i < pending.length; i++) {
            Pending p = pending[i];
            if (!p.touched) {
                continue;
            }
            FinishReason finish = null;
            if (p.finish != null && !p.finishDelivered) {
                finish = p.finish;
                p.finishDelivered = true;
            }
            deltas.add(new SequenceDelta(i, p.text.toString(), Arrays.copyOf(p.tokens, p.tokenCount),
                    p.logprobs == null ? List.of() : List.copyOf(p.logprobs), finish));
            p.text.setLength(0);
            p.tokenCount = 0;
            p.logprobs = null;
            p.touched = false;
        }
        unreadChars = 0;
        backedUp = false;
        unreadSinceNanos = 0;
        boolean done = complete;
        delivered |= done;
        return new RequestUpdate(List.copyOf(deltas), done, usage, error);
    }
}
