package org.commonweal.launcher;

/**
 * A failure to start or run a node that a person must act on. The message names the thing, the
 * cause and the fix; the command line prints it as is, without a stack trace, and exits non-zero.
 */
public final class LaunchException extends Exception {

    private static final long serialVersionUID = 1L;

    public LaunchException(String message) {
        super(message);
    }

    public LaunchException(String message, Throwable cause) {
        super(message, cause);
    }
}
