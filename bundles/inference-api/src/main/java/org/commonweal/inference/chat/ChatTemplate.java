package org.commonweal.inference.chat;

import java.util.List;

/**
 * Turns a conversation into the prompt text a model was trained on. The built-in templates produce exactly
 * what llama.cpp's built-in templates ({@code llama_chat_apply_template}, no Jinja) produce for the same
 * messages.
 *
 * <p><b>BOS.</b> As in llama.cpp, the text does not begin with the BOS token even where the model's Jinja template
 * writes {@code bos_token} first: the tokenizer adds BOS when the model asks for it
 * ({@code tokenizer.ggml.add_bos_token}), so tokenize the text with that setting and with special tokens parsed
 * ({@code <|im_start|>}, {@code [INST]} ... are single tokens). The one exception is {@code llama2-sys-bos}, whose
 * template repeats BOS before each later turn: that BOS is in the text. The {@code [INST]} families end
 * assistant turns with the EOS text, as their templates do.
 *
 * <p><b>Generation prompt.</b> {@code addGenerationPrompt} appends the opening of an assistant turn where the
 * family has one (chatml, llama3, gemma); the {@code [INST]} families (mistral, llama2) have none: their prompt
 * ends with {@code [/INST]} after the last user message whatever the flag.
 */
public interface ChatTemplate {

    /** The template's llama.cpp name, e.g. {@code llama3}, {@code chatml}, {@code mistral-v7}, {@code llama2}, {@code gemma}. */
    String name();

    /** The prompt text for these messages; see the class comment for BOS and the generation prompt. */
    String apply(List<ChatMessage> messages, boolean addGenerationPrompt);

    /**
     * The built-in template for a model's Jinja chat template ({@code tokenizer.chat_template}), recognised by
     * distinctive substrings the way llama.cpp does.
     *
     * @param bosText the text of the model's BOS token (used by {@code llama2-sys-bos} only)
     * @param eosText the text of the model's EOS token (ends assistant turns in the {@code [INST]} families)
     * @throws UnsupportedChatTemplateException if the template is not recognised, or is a family Commonweal
     *                                          does not render; never guessed
     */
    static ChatTemplate detect(String jinjaTemplate, String bosText, String eosText) throws UnsupportedChatTemplateException {
        return BuiltinChatTemplate.detect(jinjaTemplate, bosText, eosText);
    }

    /**
     * The built-in template of this name, for models without a template or with one that is not recognised.
     *
     * @throws IllegalArgumentException if the name is not one of the supported templates (the message lists them)
     */
    static ChatTemplate named(String name, String bosText, String eosText) {
        return BuiltinChatTemplate.named(name, bosText, eosText);
    }
}
