package dev.sluice.bench.reliability;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/** Valid base bodies and field-level edits of them, written as JSON text so any token can go in. */
final class Bodies {

    static final String CHAT = "/v1/chat/completions";
    static final String COMPLETIONS = "/v1/completions";
    static final String TOKENIZE = "/tokenize";
    static final String DETOKENIZE = "/detokenize";

    static final String MESSAGES = "[{\"role\":\"user\",\"content\":\"Hello there\"}]";

    private Bodies() {
    }

    /** The fields of a valid, cheap request to {@code path} (4 tokens out). */
    static Map<String, String> base(String path) {
        Map<String, String> fields = new LinkedHashMap<>();
        switch (path) {
            case CHAT -> {
                fields.put("messages", MESSAGES);
                fields.put("max_tokens", "4");
            }
            case COMPLETIONS -> {
                fields.put("prompt", "\"Hello there\"");
                fields.put("max_tokens", "4");
            }
            case TOKENIZE -> fields.put("prompt", "\"Hello there\"");
            case DETOKENIZE -> fields.put("tokens", "[1,2,3]");
            default -> throw new IllegalArgumentException(path);
        }
        return fields;
    }

    /**
     * The base body with one field set to a raw JSON value, plus what the field needs to be
     * meaningful ({@code stream: true} for {@code stream_options}, {@code logprobs: true} for
     * {@code top_logprobs}).
     */
    static String with(String path, String field, String rawValue) {
        Map<String, String> fields = base(path);
        if (field.equals("stream_options")) {
            fields.put("stream", "true");
        }
        if (field.equals("top_logprobs")) {
            fields.put("logprobs", "true");
        }
        fields.put(field, rawValue);
        return render(fields);
    }

    static String render(Map<String, String> fields) {
        StringJoiner body = new StringJoiner(",", "{", "}");
        fields.forEach((name, value) -> body.add("\"" + name + "\":" + value));
        return body.toString();
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** A JSON string literal of {@code length} ASCII characters, words separated by spaces. */
    static String bigString(int length) {
        StringBuilder s = new StringBuilder(length + 2).append('"');
        String word = "lorem ipsum dolor sit amet ";
        while (s.length() < length + 1) {
            s.append(word, 0, Math.min(word.length(), length + 1 - s.length()));
        }
        return s.append('"').toString();
    }

    /** A JSON array of {@code count} copies of {@code item}. */
    static String repeatArray(String item, int count) {
        StringBuilder s = new StringBuilder(count * (item.length() + 1) + 2).append('[');
        for (int i = 0; i < count; i++) {
            if (i > 0) {
                s.append(',');
            }
            s.append(item);
        }
        return s.append(']').toString();
    }

    /** {@code open} repeated {@code depth} times, then {@code middle}, then {@code close} as often (or not, when null). */
    static String nest(String open, String middle, String close, int depth) {
        StringBuilder s = new StringBuilder(depth * (open.length() + (close == null ? 0 : close.length())) + middle.length());
        s.append(open.repeat(depth)).append(middle);
        if (close != null) {
            s.append(close.repeat(depth));
        }
        return s.toString();
    }

    /** A short, printable rendering of a raw value for the report. */
    static String show(String raw) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < raw.length() && s.length() < 60; i++) {
            char c = raw.charAt(i);
            s.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return raw.length() > 60 ? s + "... (" + raw.length() + " chars)" : s.toString();
    }
}
