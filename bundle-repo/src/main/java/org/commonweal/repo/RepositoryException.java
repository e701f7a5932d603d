package org.commonweal.repo;

/**
 * A repository problem a person must act on. The message names the thing (an artifact, an index, a file), the
 * cause and the fix, in one sentence or two; the command line prints it after {@code error: }.
 */
public final class RepositoryException extends Exception {

    private static final long serialVersionUID = 1L;

    public RepositoryException(String message) {
        super(message);
    }

    public RepositoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
