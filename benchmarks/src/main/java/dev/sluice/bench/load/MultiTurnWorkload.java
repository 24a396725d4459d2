package dev.sluice.bench.load;

import java.util.random.RandomGenerator;

/**
 * Chat sessions that come back: 16 conversations, each request one of their turns. A turn's
 * prompt is the conversation so far (128 tokens, plus 96 per earlier turn, up to 6 turns: its
 * prefix, the same tokens in every turn of the conversation, since a segment's tokens follow from
 * its seed) then a new 40–80-token message; 32–64 tokens out. Turns are drawn at random, not in
 * order, so the workload keeps no state; a later turn still shares its whole history with any
 * earlier one. A server, or a replica, that kept a conversation's KV prefills only the new part.
 */
final class MultiTurnWorkload implements Workload {

    static final int CONVERSATIONS = 16;
    static final int TURNS = 6;
    static final int FIRST_HISTORY = 128;
    static final int PER_TURN = 96;
    private static final long SEED = 0x7e57_c0de_5eedL;

    @Override
    public String name() {
        return "multi-turn";
    }

    @Override
    public String description() {
        return CONVERSATIONS + " conversations of up to " + TURNS + " turns: history " + FIRST_HISTORY + " + "
                + PER_TURN + "/turn as the prefix, a 40-80-token message, 32-64 out";
    }

    @Override
    public RequestShape next(RandomGenerator random) {
        int conversation = random.nextInt(CONVERSATIONS);
        int turn = Workload.between(random, 1, TURNS);
        PromptSegment history = new PromptSegment(SEED + conversation, FIRST_HISTORY + PER_TURN * (turn - 1));
        return new RequestShape(history, new PromptSegment(random.nextLong(), Workload.between(random, 40, 80)),
                Workload.between(random, 32, 64));
    }
}
