package org.commonweal.inference.chat;

/**
 * A model's chat template is not one Commonweal can render. The message says what was recognised, the
 * supported families and the fix.
 */
public final class UnsupportedChatTemplateException extends Exception {

    private static final long serialVersionUID = 1L;

    public UnsupportedChatTemplateException(String message) {
        super(message);
    }
}
