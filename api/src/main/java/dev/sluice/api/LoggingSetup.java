package dev.sluice.api;

import java.io.IOException;
import java.io.InputStream;
import java.util.logging.LogManager;

/**
 * Reads {@code logging.properties} from the class path (the JDK only looks for a file), unless
 * {@code -Djava.util.logging.config.file} names one.
 */
public final class LoggingSetup {

    public LoggingSetup() throws IOException {
        if (System.getProperty("java.util.logging.config.file") != null) {
            LogManager.getLogManager().readConfiguration();
            return;
        }
        try (InputStream in = LoggingSetup.class.getResourceAsStream("/logging.properties")) {
            if (in != null) {
                LogManager.getLogManager().readConfiguration(in);
            }
        }
    }
}
