package org.commonweal.inference;

/**
 * Hears a generation as it runs, on the model's scheduler thread: implementations must return quickly
 * (hand the text to the client's stream, never wait on the client).
 */
public interface GenerationListener {

    /** New text: whole characters, stop strings already removed. */
    void text(String delta);

    /** The end: exactly one of {@link #finished} or {@link #failed} is called, once. */
    void finished(Completion completion);

    void failed(Exception cause);

    /** A listener that completes {@code done} with the completion (whose text is the whole reply), or fails it. */
    static GenerationListener completing(java.util.concurrent.CompletableFuture<Completion> done) {
        return new GenerationListener() {
            @Override
            public void text(String delta) {
            }

            @Override
            public void finished(Completion completion) {
                done.complete(completion);
            }

            @Override
            public void failed(Exception cause) {
                done.completeExceptionally(cause);
            }
        };
    }
}
