package dev.sluice.bench.reliability;

import java.util.SplittableRandom;

/** Request bodies for the load phases: random English-like prompts, fixed output lengths. */
final class Prompts {

    private static final String[] WORDS = ("the river runs past old stone mills and quiet fields where farmers "
            + "watch clouds gather over hills while children count boats drifting toward a harbour full of "
            + "gulls nets ropes and tired sailors telling stories about storms lighthouses and distant towns").split(" ");

    private Prompts() {
    }

    static String words(SplittableRandom r, int count) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < count; i++) {
            s.append(i == 0 ? "" : " ").append(WORDS[r.nextInt(WORDS.length)]);
        }
        return s.toString();
    }

    /**
     * A streaming body for chat or completions that generates exactly {@code maxTokens} tokens
     * ({@code ignore_eos}), with a usage chunk.
     */
    static String streaming(boolean chat, String prompt, int maxTokens) {
        return body(chat, prompt, maxTokens, true);
    }

    static String body(boolean chat, String prompt, int maxTokens, boolean stream) {
        String input = chat ? "\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]" : "\"prompt\":\"" + prompt + "\"";
        return "{" + input + ",\"max_tokens\":" + maxTokens + ",\"ignore_eos\":true,\"temperature\":0.8"
                + (stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "") + "}";
    }

    static String path(boolean chat) {
        return chat ? Bodies.CHAT : Bodies.COMPLETIONS;
    }
}
