package dev.sluice.bench.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What every phase gets: the options, a way to start servers, and where raw output goes. */
record Suite(SuiteOptions options, ServerProcess.Launcher launcher, ServerProcess.Launcher fuzzLauncher, Path logDir) {

    /** Server options common to the phases: the compute threads, when given. */
    List<String> threadArgs() {
        int threads = options.integer("threads");
        return threads > 0 ? List.of("--threads", Integer.toString(threads)) : List.of();
    }

    void writeRaw(String name, String text) {
        try {
            Files.createDirectories(logDir);
            Files.writeString(logDir.resolve(name), text);
        } catch (IOException e) {
            System.err.println("[reliability] could not write " + logDir.resolve(name) + ": " + e.getMessage());
        }
    }

    static void progress(String phase, String message) {
        System.err.println("[reliability] " + phase + ": " + message);
    }
}
