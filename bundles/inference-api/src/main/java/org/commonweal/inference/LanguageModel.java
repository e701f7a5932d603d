package org.commonweal.inference;

import org.commonweal.inference.chat.ChatTemplate;
import org.commonweal.inference.chat.UnsupportedChatTemplateException;
import org.commonweal.inference.tokenizer.Tokenizer;

/** A loaded model: tokenize, format chats, generate. Thread-safe. */
public interface LanguageModel {

    ModelInfo info();

    Tokenizer tokenizer();

    /** The model's chat template; fails saying why when the model has none this node can apply. */
    ChatTemplate chatTemplate() throws UnsupportedChatTemplateException;

    /** The culture packs installed for this model (their adapters fit its file). */
    java.util.List<CulturePack> adapters();

    /** Its requests now and since it was loaded, if the implementation counts them. */
    default java.util.Optional<RequestCounts> requests() {
        return java.util.Optional.empty();
    }

    /**
     * Queues a generation; the listener hears its text and its end. Deterministic: the same model, prompt,
     * parameters and seed give the same tokens on every node, whatever the thread count and whatever other
     * requests share the batch.
     *
     * @throws OverloadedException if the queue is full (try again after the time it names)
     * @throws IllegalArgumentException if the prompt does not fit the context, naming both lengths, or
     *     the request names an adapter this model does not have
     * @throws ModelClosedException if the model is being unloaded (its implementation stops): nothing was started,
     *     so the request may go to the next {@link LanguageModels} service; a generation that was accepted but
     *     given up before any text may end the same way, through {@link GenerationListener#failed}
     */
    Generation generate(GenerationRequest request, GenerationListener listener) throws OverloadedException;
}
