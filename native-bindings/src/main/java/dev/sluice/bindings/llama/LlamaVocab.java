package dev.sluice.bindings.llama;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeStrings;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A model's tokenizer, through libllama's vocabulary API. Valid while its {@link LlamaModel} is
 * open; not thread-safe (the engine thread or a caller holding a lock uses it).
 */
public final class LlamaVocab {

    /** Returned by the special-token getters when the model defines no such token. */
    public static final int NO_TOKEN = -1;

    private final LlamaModel model;
    private final MemorySegment vocab;

    LlamaVocab(LlamaModel model, MemorySegment vocab) {
        this.model = model;
        this.vocab = vocab;
    }

    /**
     * Text to token ids.
     *
     * @param addSpecial    add BOS/EOS as the model's metadata asks
     * @param parseSpecial  recognise special tokens written as text (e.g. {@code <|im_start|>})
     */
    public int[] tokenize(String text, boolean addSpecial, boolean parseSpecial) {
        MemorySegment v = pointer();
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(Math.max(1, utf8.length));
            MemorySegment.copy(utf8, 0, bytes, ValueLayout.JAVA_BYTE, 0, utf8.length);
            int capacity = utf8.length + 8;
            MemorySegment tokens = arena.allocate(ValueLayout.JAVA_INT, capacity);
            int n = llama_cpp.llama_tokenize(v, bytes, utf8.length, tokens, capacity, addSpecial, parseSpecial);
            if (n < 0) {
                if (n == Integer.MIN_VALUE) {
                    throw new NativeException("text too long to tokenize (" + utf8.length + " bytes)");
                }
                capacity = -n;
                tokens = arena.allocate(ValueLayout.JAVA_INT, capacity);
                n = llama_cpp.llama_tokenize(v, bytes, utf8.length, tokens, capacity, addSpecial, parseSpecial);
                if (n < 0) {
                    throw new NativeException("llama_tokenize failed (" + n + ")");
                }
            }
            return tokens.asSlice(0, n * 4L).toArray(ValueLayout.JAVA_INT);
        }
    }

    /**
     * The bytes one token stands for. A token may be part of a multi-byte UTF-8 character, so this
     * returns bytes, not a String.
     *
     * @param renderSpecial  render control tokens (e.g. {@code </s>}) as their text instead of nothing
     */
    public byte[] piece(int token, boolean renderSpecial) {
        checkToken(token);
        MemorySegment v = pointer();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(64);
            int n = llama_cpp.llama_token_to_piece(v, token, buf, (int) buf.byteSize(), 0, renderSpecial);
            if (n < 0) {
                buf = arena.allocate(-n);
                n = llama_cpp.llama_token_to_piece(v, token, buf, (int) buf.byteSize(), 0, renderSpecial);
                if (n < 0) {
                    throw new NativeException("llama_token_to_piece failed for token " + token);
                }
            }
            return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** Token ids to text, as llama.cpp's own detokenizer renders the whole sequence. */
    public String detokenize(int[] tokens, boolean removeSpecial, boolean renderSpecial) {
        for (int token : tokens) {
            checkToken(token);
        }
        MemorySegment v = pointer();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ids = arena.allocateFrom(ValueLayout.JAVA_INT, tokens);
            int capacity = Math.max(16, tokens.length * 8);
            MemorySegment text = arena.allocate(capacity);
            int n = llama_cpp.llama_detokenize(v, ids, tokens.length, text, capacity, removeSpecial, renderSpecial);
            if (n < 0) {
                capacity = -n;
                text = arena.allocate(capacity);
                n = llama_cpp.llama_detokenize(v, ids, tokens.length, text, capacity, removeSpecial, renderSpecial);
                if (n < 0) {
                    throw new NativeException("llama_detokenize failed (" + n + ")");
                }
            }
            return new String(text.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    /** The token's text as stored in the vocabulary (SentencePiece pieces keep their ▁ markers). */
    public String text(int token) {
        checkToken(token);
        return NativeStrings.read(llama_cpp.llama_vocab_get_text(pointer(), token));
    }

    public int size() {
        return llama_cpp.llama_vocab_n_tokens(pointer());
    }

    public int bos() {
        return llama_cpp.llama_vocab_bos(pointer());
    }

    public int eos() {
        return llama_cpp.llama_vocab_eos(pointer());
    }

    public int eot() {
        return llama_cpp.llama_vocab_eot(pointer());
    }

    /**
     * Fill-in-the-middle's prefix token ({@code tokenizer.ggml.fim_pre_token_id}, the older
     * {@code prefix_token_id}, or found by its text such as {@code <|fim_prefix|>}), or {@link #NO_TOKEN}.
     */
    public int fimPrefix() {
        return llama_cpp.llama_vocab_fim_pre(pointer());
    }

    /** Fill-in-the-middle's suffix token, or {@link #NO_TOKEN}. */
    public int fimSuffix() {
        return llama_cpp.llama_vocab_fim_suf(pointer());
    }

    /** Fill-in-the-middle's middle token (generation starts after it), or {@link #NO_TOKEN}. */
    public int fimMiddle() {
        return llama_cpp.llama_vocab_fim_mid(pointer());
    }

    /** True for every token that ends generation (EOS, EOT, and their model-specific friends). */
    public boolean isEndOfGeneration(int token) {
        return llama_cpp.llama_vocab_is_eog(pointer(), token);
    }

    public boolean isControl(int token) {
        return llama_cpp.llama_vocab_is_control(pointer(), token);
    }

    public boolean addsBos() {
        return llama_cpp.llama_vocab_get_add_bos(pointer());
    }

    public boolean addsEos() {
        return llama_cpp.llama_vocab_get_add_eos(pointer());
    }

    private void checkToken(int token) {
        int size = size();
        if (token < 0 || token >= size) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, " + size + ")");
        }
    }

    /** The native {@code llama_vocab *}; throws once the owning model is closed. */
    MemorySegment pointer() {
        model.pointer();
        return vocab;
    }
}
