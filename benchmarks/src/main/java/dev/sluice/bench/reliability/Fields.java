package dev.sluice.bench.reliability;

import java.math.BigDecimal;
import java.util.List;

/**
 * The request fields the README documents for chat and text completions, with their JSON types
 * and valid ranges: what the fuzz generator mutates one at a time on an otherwise valid body.
 */
final class Fields {

    enum Scope { CHAT, COMPLETIONS, BOTH }

    enum Kind { INT, NUM, BOOL, STRING, STOP, LOGIT_BIAS, STREAM_OPTIONS, TOKEN_IDS, MESSAGES, PROMPT,
        RESPONSE_FORMAT, TOOLS, TOOL_CHOICE, FUNCTIONS, SUFFIX }

    /** A field; for numbers, its range (bounds exclusive where flagged). */
    record Field(String name, Scope scope, Kind kind, BigDecimal min, boolean minExclusive, BigDecimal max,
                 boolean maxExclusive) {

        boolean numeric() {
            return kind == Kind.INT || kind == Kind.NUM;
        }

        boolean onChat() {
            return scope != Scope.COMPLETIONS;
        }

        boolean onCompletions() {
            return scope != Scope.CHAT;
        }

        /** Whether a number (taken exactly) is a valid value. */
        boolean accepts(BigDecimal value) {
            if (kind == Kind.INT && value.stripTrailingZeros().scale() > 0) {
                return false;
            }
            int low = value.compareTo(min);
            int high = value.compareTo(max);
            return (minExclusive ? low > 0 : low >= 0) && (maxExclusive ? high < 0 : high <= 0);
        }
    }

    static final BigDecimal INT_MIN = BigDecimal.valueOf(Integer.MIN_VALUE);
    static final BigDecimal INT_MAX = BigDecimal.valueOf(Integer.MAX_VALUE);
    static final BigDecimal LONG_MIN = BigDecimal.valueOf(Long.MIN_VALUE);
    static final BigDecimal LONG_MAX = BigDecimal.valueOf(Long.MAX_VALUE);

    static final List<Field> ALL = List.of(
            integer("max_tokens", Scope.BOTH, 1, INT_MAX),
            integer("max_completion_tokens", Scope.CHAT, 1, INT_MAX),
            number("temperature", Scope.BOTH, "0", false, "2", false),
            number("top_p", Scope.BOTH, "0", false, "1", false), // 0 is greedy, as in OpenAI's range
            integer("n", Scope.BOTH, 1, BigDecimal.valueOf(128)),
            number("presence_penalty", Scope.BOTH, "-2", false, "2", false),
            number("frequency_penalty", Scope.BOTH, "-2", false, "2", false),
            new Field("seed", Scope.BOTH, Kind.INT, LONG_MIN, false, LONG_MAX, false),
            integer("top_k", Scope.BOTH, -1, INT_MAX),
            number("min_p", Scope.BOTH, "0", false, "1", false),
            number("repetition_penalty", Scope.BOTH, "0", true, "10", false),
            new Field("priority", Scope.BOTH, Kind.INT, INT_MIN, false, INT_MAX, false),
            integer("top_logprobs", Scope.CHAT, 0, BigDecimal.valueOf(20)),
            integer("logprobs", Scope.COMPLETIONS, 0, BigDecimal.valueOf(20)),
            // best_of must equal n, which is 1 on the base body
            integer("best_of", Scope.COMPLETIONS, 1, BigDecimal.ONE),
            other("stream", Scope.BOTH, Kind.BOOL),
            other("logprobs", Scope.CHAT, Kind.BOOL),
            other("echo", Scope.COMPLETIONS, Kind.BOOL),
            other("ignore_eos", Scope.BOTH, Kind.BOOL),
            other("return_tokens_as_token_ids", Scope.BOTH, Kind.BOOL),
            other("model", Scope.BOTH, Kind.STRING),
            other("user", Scope.BOTH, Kind.STRING),
            other("stop", Scope.BOTH, Kind.STOP),
            other("logit_bias", Scope.BOTH, Kind.LOGIT_BIAS),
            other("stream_options", Scope.BOTH, Kind.STREAM_OPTIONS),
            other("stop_token_ids", Scope.BOTH, Kind.TOKEN_IDS),
            other("messages", Scope.CHAT, Kind.MESSAGES),
            other("prompt", Scope.COMPLETIONS, Kind.PROMPT),
            other("response_format", Scope.CHAT, Kind.RESPONSE_FORMAT),
            other("tools", Scope.CHAT, Kind.TOOLS),
            other("tool_choice", Scope.CHAT, Kind.TOOL_CHOICE),
            other("functions", Scope.CHAT, Kind.FUNCTIONS),
            other("suffix", Scope.COMPLETIONS, Kind.SUFFIX));

    static List<Field> numeric() {
        return ALL.stream().filter(Field::numeric).toList();
    }

    private Fields() {
    }

    private static Field integer(String name, Scope scope, long min, BigDecimal max) {
        return new Field(name, scope, Kind.INT, BigDecimal.valueOf(min), false, max, false);
    }

    private static Field number(String name, Scope scope, String min, boolean minExclusive, String max, boolean maxExclusive) {
        return new Field(name, scope, Kind.NUM, new BigDecimal(min), minExclusive, new BigDecimal(max), maxExclusive);
    }

    private static Field other(String name, Scope scope, Kind kind) {
        return new Field(name, scope, kind, null, false, null, false);
    }
}
