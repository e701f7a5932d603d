package org.commonweal.inference;

/**
 * How a generation ended.
 *
 * @param finishReason {@code stop} (an end-of-generation token or a stop string), {@code length} (max
 *     tokens or the context), or {@code cancelled}
 * @param tokens the generated token ids, in order (an end-of-generation token included when it ended it)
 * @param seed the sampling seed used: with the model, prompt and parameters it reproduces the tokens
 */
public record Completion(String finishReason, int promptTokens, int[] tokens, String text, long seed) {

    public int completionTokens() {
        return tokens.length;
    }
}
