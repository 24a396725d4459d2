package dev.sluice.bench.load;

/** A rendered prompt, split like its {@link RequestShape}: shared system prefix, then the user part. */
sealed interface Prompt {

    /** The prompt length the workload asked for (exact for ids, approximate for text). */
    int plannedTokens();

    /** Token ids, sent as an array in a completions {@code prompt}, so lengths are exact. */
    record Tokens(int[] systemIds, int[] userIds) implements Prompt {

        @Override
        public int plannedTokens() {
            return systemIds.length + userIds.length;
        }

        int[] all() {
            int[] all = new int[plannedTokens()];
            System.arraycopy(systemIds, 0, all, 0, systemIds.length);
            System.arraycopy(userIds, 0, all, systemIds.length, userIds.length);
            return all;
        }
    }

    /** Words, about one token each; {@code system} is empty when the shape has no prefix. */
    record Text(String system, String user, int plannedTokens) implements Prompt {
    }
}
