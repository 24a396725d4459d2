package dev.sluice.bench.load;

import java.util.SplittableRandom;
import java.util.StringJoiner;

/**
 * Turns a {@link RequestShape} into token ids or text. A segment's content depends only on its
 * seed, so a shared prefix renders the same on every request.
 */
final class PromptRenderer {

    /**
     * Plain, frequent English words: each is a single token (with its leading space) in the
     * vocabularies of the common model families, so the word count tracks the token count.
     */
    private static final String[] WORDS = {
        "the", "of", "and", "to", "in", "is", "was", "for", "on", "that", "with", "as", "by", "at", "from",
        "his", "her", "it", "an", "are", "were", "which", "this", "be", "or", "has", "had", "not", "but",
        "their", "first", "one", "new", "after", "also", "two", "they", "who", "its", "he", "she", "been",
        "other", "more", "time", "into", "over", "all", "when", "there", "would", "about", "up", "year",
        "city", "school", "world", "state", "during", "most", "only", "can", "such", "some", "where",
        "many", "later", "made", "than", "war", "may", "team", "three", "film", "under", "between", "found",
        "both", "people", "since", "then", "known", "part", "game", "work", "well", "life", "played",
        "south", "north", "while", "music", "group", "called", "west", "east", "house", "family",
        "season", "them", "before", "could", "end", "through", "country", "back", "series",
        "government", "place", "water", "light", "river", "small", "great", "long", "number", "early",
        "church", "way", "name", "because", "second", "day", "book", "best", "next", "high", "left",
        "public", "line", "around", "album", "form", "power", "town", "road", "land",
    };

    private final PromptFormat format;
    private final int vocabMin;
    private final int vocabMax;

    /** Token ids are drawn from [vocabMin, vocabMax). */
    PromptRenderer(PromptFormat format, int vocabMin, int vocabMax) {
        if (vocabMin < 0 || vocabMax <= vocabMin) {
            throw new IllegalArgumentException("bad vocabulary range [" + vocabMin + ", " + vocabMax + ")");
        }
        this.format = format;
        this.vocabMin = vocabMin;
        this.vocabMax = vocabMax;
    }

    Prompt render(RequestShape shape) {
        return switch (format) {
            case IDS -> new Prompt.Tokens(ids(shape.systemPrefix()), ids(shape.user()));
            case TEXT -> new Prompt.Text(text(shape.systemPrefix()), text(shape.user()), shape.promptTokens());
        };
    }

    private int[] ids(PromptSegment segment) {
        return new SplittableRandom(segment.seed()).ints(segment.tokens(), vocabMin, vocabMax).toArray();
    }

    private static String text(PromptSegment segment) {
        SplittableRandom random = new SplittableRandom(segment.seed());
        StringJoiner words = new StringJoiner(" ");
        for (int i = 0; i < segment.tokens(); i++) {
            words.add(WORDS[random.nextInt(WORDS.length)]);
        }
        return words.toString();
    }
}
