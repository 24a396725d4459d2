package dev.sluice.engine.text;

import dev.sluice.bindings.llama.LlamaModel;
import dev.sluice.bindings.llama.LlamaVocab;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.IntStream;

/**
 * A model's tokenizer, read from the vocabulary of a GGUF file by libllama.
 *
 * <p>Thread-safe. HTTP handler threads encode prompts while the engine thread detokenizes: on a
 * loaded vocabulary, libllama's tokenize, detokenize and token-to-piece calls only read it (the
 * pre-tokenizer regexes and caches are built at load time), and llama-server itself calls them from
 * its HTTP threads concurrently. The one hazard is {@link #close()} freeing the vocabulary under a
 * running call, so native calls hold a read lock and close takes the write lock; any call after
 * close throws {@link IllegalStateException}.
 *
 * <p>Token pieces are read once at open: the per-token path of {@link StreamingDetokenizer} is then
 * an array lookup, not a native call.
 */
public final class Tokenizer implements AutoCloseable {

    /** Returned by {@link #bos()}, {@link #eos()} and {@link #eot()} when the vocabulary has no such token. */
    public static final int NO_TOKEN = LlamaVocab.NO_TOKEN;

    private static final String CHAT_TEMPLATE_KEY = "tokenizer.chat_template";
    private static final byte[] EMPTY = new byte[0];

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final LlamaModel model;
    private final LlamaVocab vocab;
    private final int vocabSize;
    private final int bos;
    private final int eos;
    private final int eot;
    private final boolean addsBos;
    private final boolean addsEos;
    private final int[] fim; // prefix, suffix, middle; NO_TOKEN where the vocabulary has none
    private final int[] endOfGenerationTokens;
    /** Every token's bytes, both ways, and which tokens end generation. */
    private final TokenTexts texts;
    private final Optional<String> chatTemplate;
    private volatile boolean closed;

    private Tokenizer(LlamaModel model) {
        this.model = model;
        this.vocab = model.vocab();
        this.vocabSize = vocab.size();
        this.bos = vocab.bos();
        this.eos = vocab.eos();
        this.eot = vocab.eot();
        this.addsBos = vocab.addsBos();
        this.addsEos = vocab.addsEos();
        this.fim = new int[] {vocab.fimPrefix(), vocab.fimSuffix(), vocab.fimMiddle()};
        boolean[] endOfGeneration = new boolean[vocabSize];
        byte[][] specialPieces = new byte[vocabSize][];
        byte[][] textPieces = new byte[vocabSize][];
        for (int token = 0; token < vocabSize; token++) {
            endOfGeneration[token] = vocab.isEndOfGeneration(token);
            specialPieces[token] = vocab.piece(token, true);
            // Most tokens read the same either way; share the array then.
            byte[] text = vocab.piece(token, false);
            textPieces[token] = text.length == 0 ? EMPTY : Arrays.equals(text, specialPieces[token]) ? specialPieces[token] : text;
        }
        this.texts = new TokenTexts(textPieces, specialPieces, endOfGeneration);
        this.endOfGenerationTokens = texts.endOfGenerationTokens();
        this.chatTemplate = model.metadata(CHAT_TEMPLATE_KEY).filter(s -> !s.isBlank());
    }

    /** Reads the tokenizer of a GGUF file (its weights, if any, are not loaded). */
    public static Tokenizer open(Path gguf) {
        LlamaModel model = LlamaModel.loadVocabOnly(gguf);
        try {
            return new Tokenizer(model);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Text to token ids.
     *
     * @param addSpecial    add BOS/EOS as the model's metadata asks
     * @param parseSpecial  turn special tokens written as text (e.g. {@code <|im_start|>}) into their
     *                      ids; true for rendered chat templates, false for untrusted plain text
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        Objects.requireNonNull(text, "text");
        Lock read = readLock();
        try {
            return vocab.tokenize(text, addSpecial, parseSpecial);
        } finally {
            read.unlock();
        }
    }

    /**
     * Token ids to text as llama.cpp renders a whole sequence: control tokens (BOS, EOS, chat
     * markers) are skipped, and a SentencePiece vocabulary drops the space it prefixed when encoding.
     */
    public String decode(int[] tokens) {
        return decode(tokens, false);
    }

    /**
     * Token ids to text; with {@code renderSpecial}, control tokens appear as their text
     * ({@code <|im_start|>}), so a tokenized chat prompt round-trips (vLLM's and llama-server's
     * {@code /detokenize}).
     */
    public String decode(int[] tokens, boolean renderSpecial) {
        for (int token : tokens) {
            checkToken(token);
        }
        Lock read = readLock();
        try {
            return vocab.detokenize(tokens, !renderSpecial, renderSpecial);
        } finally {
            read.unlock();
        }
    }

    /** The bytes one token adds to generated text (empty for control tokens); may be part of a UTF-8 character. */
    public byte[] piece(int token) {
        return pieceBytes(token, false).clone();
    }

    /** A token's text with control tokens rendered, e.g. {@code "<s>"} for a BOS token. */
    public String tokenText(int token) {
        return new String(pieceBytes(token, true), StandardCharsets.UTF_8);
    }

    public int vocabSize() {
        checkOpen();
        return vocabSize;
    }

    /** The beginning-of-sequence token, or {@link #NO_TOKEN}. */
    public int bos() {
        checkOpen();
        return bos;
    }

    /** The end-of-sequence token, or {@link #NO_TOKEN}. */
    public int eos() {
        checkOpen();
        return eos;
    }

    /** The end-of-turn token (e.g. {@code <|eot_id|>}), or {@link #NO_TOKEN}. */
    public int eot() {
        checkOpen();
        return eot;
    }

    /** True when the model's metadata asks for BOS in front of every encoded text. */
    public boolean addsBos() {
        checkOpen();
        return addsBos;
    }

    /** True when the model's metadata asks for EOS after every encoded text. */
    public boolean addsEos() {
        checkOpen();
        return addsEos;
    }

    /**
     * Fill-in-the-middle's prefix, suffix and middle tokens as libllama finds them (GGUF metadata,
     * else their usual texts), each {@link #NO_TOKEN} where the vocabulary has none.
     */
    public int[] fimTokens() {
        checkOpen();
        return fim.clone();
    }

    /** True for every token that ends generation: EOS, EOT and their model-specific friends. */
    public boolean isEndOfGeneration(int token) {
        checkOpen();
        return texts.isEndOfGeneration(token);
    }

    /** Every token's output bytes and end-of-generation flag, usable from any thread, even after close. */
    public TokenTexts texts() {
        return texts;
    }

    /** All end-of-generation token ids, ascending. */
    public int[] endOfGenerationTokens() {
        checkOpen();
        return endOfGenerationTokens.clone();
    }

    /** The Jinja chat template in the GGUF's {@code tokenizer.chat_template}, if it has one. */
    public Optional<String> chatTemplate() {
        checkOpen();
        return chatTemplate;
    }

    /**
     * The native vocabulary, for the samplers (logit bias checks, grammars). Like every native
     * object it must not be used after {@link #close()}.
     */
    public LlamaVocab vocab() {
        return vocab;
    }

    public Path path() {
        return model.path();
    }

    /** Frees the vocabulary once running calls finish; later calls throw. Idempotent. */
    @Override
    public void close() {
        Lock write = lock.writeLock();
        write.lock();
        try {
            if (!closed) {
                closed = true;
                model.close();
            }
        } finally {
            write.unlock();
        }
    }

    @Override
    public String toString() {
        return "Tokenizer[" + model.path().getFileName() + (closed ? ", closed]" : "]");
    }

    /** The shared piece array (callers must not modify it). */
    private byte[] pieceBytes(int token, boolean renderSpecial) {
        checkOpen();
        return texts.piece(token, renderSpecial);
    }

    private Lock readLock() {
        Lock read = lock.readLock();
        read.lock();
        if (closed) {
            read.unlock();
            throw closedException();
        }
        return read;
    }

    private void checkToken(int token) {
        checkOpen();
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, " + vocabSize + ")");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw closedException();
        }
    }

    private IllegalStateException closedException() {
        return new IllegalStateException("tokenizer " + model.path().getFileName() + " is closed");
    }
}
