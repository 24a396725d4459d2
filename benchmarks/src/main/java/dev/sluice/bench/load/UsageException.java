package dev.sluice.bench.load;

/** A bad command line: the message says what is wrong in words a user can act on. */
final class UsageException extends Exception {

    UsageException(String message) {
        super(message);
    }
}
