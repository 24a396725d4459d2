package dev.sluice.scheduler;

/**
 * How background work (Batch API lines, shadow copies: requests at {@link #PRIORITY} or behind)
 * shares steps with foreground (client) requests.
 *
 * <p>Priority alone orders the queue but not the compute: on a CPU a step's time grows with the
 * tokens in it, so sixteen batch lines decoding beside four chats, or a batch prompt chunk in the
 * step that prefills a chat's prompt, make every chat slower whatever its place in the queue.
 * While any foreground sequence is running, waiting or swapped, background sequences therefore
 * <ul>
 *   <li>get no tokens in a step that prefills a foreground prompt (that step is a chat's time to
 *       first token), and</li>
 *   <li>get at most {@link #STEP_TOKENS} tokens in any other step (one per decoding line, or a
 *       prompt chunk of that size),</li>
 * </ul>
 * except that after {@link #MAX_HELD_STEPS} steps in a row without a token they get their
 * {@link #STEP_TOKENS} anyway, so a stream of chat prompts cannot starve a batch. With no
 * foreground work they take the whole step, as before.
 */
final class BackgroundPolicy {

    /** Requests at this priority or behind (a larger number) are background work. */
    static final int PRIORITY = 100_000;
    /** Background tokens per step while foreground work is present. */
    static final int STEP_TOKENS = 32;
    /** Steps in a row background work may be held back entirely before it gets its share anyway. */
    static final int MAX_HELD_STEPS = 8;

    private int heldSteps;

    static boolean isBackground(Sequence seq) {
        return seq.request().priority() >= PRIORITY;
    }

    /**
     * The tokens background sequences may take in this step.
     *
     * @param foregroundPresent      a foreground sequence is running, waiting or swapped
     * @param prefillsForeground     the step computes part of a foreground prompt
     */
    int allowance(boolean foregroundPresent, boolean prefillsForeground) {
        if (!foregroundPresent) {
            return Integer.MAX_VALUE;
        }
        if (prefillsForeground && heldSteps < MAX_HELD_STEPS) {
            return 0;
        }
        return STEP_TOKENS;
    }

    /** Records whether background work that wanted to run got tokens in the step just planned. */
    void record(boolean wanted, boolean ran) {
        heldSteps = wanted && !ran ? heldSteps + 1 : 0;
    }
}
