package org.commonweal.inference;

/** The model's queue is full: the request was not accepted. */
public final class OverloadedException extends Exception {

    private static final long serialVersionUID = 1L;
    private final int retryAfterSeconds;

    public OverloadedException(String message, int retryAfterSeconds) {
        super(message);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** A reasonable wait before trying again. */
    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
