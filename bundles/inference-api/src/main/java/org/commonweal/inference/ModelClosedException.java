package org.commonweal.inference;

/**
 * The model's implementation is going away (the bundle is stopping or being replaced) and gave up this generation
 * before it produced any text, or refused to start it: nothing of it reached the client, so the caller may run it
 * again, unchanged, on the next {@link LanguageModels} service.
 */
public final class ModelClosedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ModelClosedException(String message) {
        super(message);
    }
}
