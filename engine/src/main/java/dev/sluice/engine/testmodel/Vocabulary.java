package dev.sluice.engine.testmodel;

import dev.sluice.bindings.NativeBuild;

import java.nio.file.Path;
import java.util.List;

/**
 * The vocabulary-only GGUF files shipped with the pinned llama.cpp source that test models take
 * their tokenizer from, with each file's token count so a {@link ModelShape} knows its vocabulary
 * size without opening the file (the generator checks the count against the file).
 *
 * <p>Every generated model speaks ChatML: when a vocabulary lacks {@link #CHAT_MARKERS}, the
 * generator appends them as control tokens after the file's tokens, the way fine-tunes that add
 * ChatML to a base vocabulary do (OpenHermes 2.5 grew Llama's 32000 tokens to 32002). They are then
 * single special tokens for the tokenizer, and llama.cpp treats {@code <|im_end|>} as an
 * end-of-generation token by its text.
 */
public enum Vocabulary {
    /** Llama 2's SentencePiece vocabulary. */
    LLAMA_SPM("ggml-vocab-llama-spm.gguf", 32000, false),
    /** Llama 3's byte-level BPE vocabulary. */
    LLAMA_BPE("ggml-vocab-llama-bpe.gguf", 128256, false),
    /** StarCoder's BPE vocabulary, the size of SmolLM2's. */
    STARCODER("ggml-vocab-starcoder.gguf", 49152, false),
    /** Qwen2's BPE vocabulary (Qwen2.5 and Qwen3 use it too), ChatML markers included. */
    QWEN2("ggml-vocab-qwen2.gguf", 151936, true);

    /** ChatML's turn markers, in the order they are appended when missing. */
    public static final List<String> CHAT_MARKERS = List.of("<|im_start|>", "<|im_end|>");

    private final String fileName;
    private final int fileTokens;
    private final boolean hasChatMarkers;

    Vocabulary(String fileName, int fileTokens, boolean hasChatMarkers) {
        this.fileName = fileName;
        this.fileTokens = fileTokens;
        this.hasChatMarkers = hasChatMarkers;
    }

    public String fileName() {
        return fileName;
    }

    /** The vocabulary file in the llama.cpp source. */
    public Path path() {
        return NativeBuild.sourceDir().resolve("models").resolve(fileName);
    }

    /** Tokens in the vocabulary file. */
    public int fileTokens() {
        return fileTokens;
    }

    /** Tokens in a generated model: the file's, plus the ChatML markers it lacks. */
    public int modelTokens() {
        return fileTokens + (hasChatMarkers ? 0 : CHAT_MARKERS.size());
    }
}
