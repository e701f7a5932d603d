package org.commonweal.inference.chat;

import java.util.Set;

/**
 * One message of a conversation.
 *
 * @param role    {@code system}, {@code user} or {@code assistant}
 * @param content the text, possibly empty
 */
public record ChatMessage(String role, String content) {

    private static final Set<String> ROLES = Set.of("system", "user", "assistant");

    public ChatMessage {
        if (role == null || !ROLES.contains(role)) {
            // Tool messages need tool-call rendering, which the built-in templates do not have.
            throw new IllegalArgumentException("chat message role " + (role == null ? "null" : "'" + role + "'")
                    + " is not supported: use system, user or assistant");
        }
        if (content == null) {
            throw new IllegalArgumentException("the content of a " + role + " message is null: use \"\" for no text");
        }
    }
}
