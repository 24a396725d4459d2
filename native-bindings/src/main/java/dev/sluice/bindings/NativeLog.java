package dev.sluice.bindings;

import dev.sluice.bindings.raw.ggml_log_callback;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Routes llama.cpp's and ggml's log output into {@link System.Logger} under the name
 * {@value #LOGGER_NAME}, instead of the default stderr.
 *
 * <p>Native INFO messages (llama.cpp prints every metadata key while loading a model) go to
 * {@code DEBUG}; warnings and errors keep their level. The callback may run on ggml's worker
 * threads, so partial lines ({@code GGML_LOG_LEVEL_CONT}) are assembled per thread.
 */
public final class NativeLog {

    public static final String LOGGER_NAME = "llama.cpp";

    private static final Logger LOG = System.getLogger(LOGGER_NAME);
    private static final int LEVEL_DEBUG = 1;
    private static final int LEVEL_INFO = 2;
    private static final int LEVEL_WARN = 3;
    private static final int LEVEL_ERROR = 4;
    private static final int LEVEL_CONT = 5;

    private static final ThreadLocal<PendingLine> PENDING = ThreadLocal.withInitial(PendingLine::new);

    private NativeLog() {
    }

    private static final class PendingLine {
        final StringBuilder text = new StringBuilder();
        int level = LEVEL_INFO;
    }

    static void install() {
        // The stub must outlive every native caller: it lives for the whole process.
        MemorySegment callback = ggml_log_callback.allocate(NativeLog::onMessage, Arena.global());
        llama_cpp.llama_log_set(callback, MemorySegment.NULL);
        llama_cpp.ggml_log_set(callback, MemorySegment.NULL);
    }

    private static void onMessage(int level, MemorySegment text, MemorySegment userData) {
        // An exception escaping an upcall would abort the JVM: swallow everything.
        try {
            PendingLine pending = PENDING.get();
            if (level != LEVEL_CONT) {
                pending.level = level;
            }
            pending.text.append(text.reinterpret(Long.MAX_VALUE).getString(0));
            int newline;
            while ((newline = pending.text.indexOf("\n")) >= 0) {
                String line = pending.text.substring(0, newline);
                pending.text.delete(0, newline + 1);
                if (!line.isBlank()) {
                    LOG.log(javaLevel(pending.level), line);
                }
            }
        } catch (Throwable ignored) {
            // nothing sensible to do on a native thread
        }
    }

    private static Level javaLevel(int nativeLevel) {
        return switch (nativeLevel) {
            case LEVEL_ERROR -> Level.ERROR;
            case LEVEL_WARN -> Level.WARNING;
            case LEVEL_DEBUG -> Level.TRACE;
            default -> Level.DEBUG;
        };
    }
}
