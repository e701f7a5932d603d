package org.commonweal.inference.sampling;

/**
 * How the next token is chosen, with llama.cpp server's meanings.
 *
 * @param temperature      divides the logits before the draw; 0 takes the most likely token (greedy)
 * @param topK             keeps the k most likely tokens; 0 keeps all
 * @param topP             keeps the most likely tokens until their probability reaches p; 1 keeps all
 * @param minP             drops tokens less likely than {@code minP} times the most likely one; 0 keeps all
 * @param repeatPenalty    divides positive logits (multiplies negative ones) of tokens seen in the window; 1 is off
 * @param repeatLastN      the window: how many of the last history tokens the penalties look at; 0 turns all
 *                         three penalties off
 * @param frequencyPenalty subtracted from a token's logit once per occurrence in the window (OpenAI's meaning)
 * @param presencePenalty  subtracted once from the logit of every token that occurs in the window
 * @param seed             seeds the draw: the same seed, parameters and logits give the same tokens everywhere
 *
 * <p>As in llama.cpp, the penalty window is the end of the whole history, prompt included, where OpenAI counts
 * only generated tokens for the frequency and presence penalties.
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repeatPenalty, int repeatLastN,
        float frequencyPenalty, float presencePenalty, long seed) {

    public SamplingParams {
        // The negated comparisons also refuse NaN.
        check(Float.isFinite(temperature) && temperature >= 0, "temperature", temperature, "a finite number >= 0 (0 = greedy)");
        check(topK >= 0, "topK", topK, ">= 0 (0 = off)");
        check(topP > 0 && topP <= 1, "topP", topP, "(0, 1] (1 = off)");
        check(minP >= 0 && minP < 1, "minP", minP, "[0, 1) (0 = off)");
        check(Float.isFinite(repeatPenalty) && repeatPenalty > 0, "repeatPenalty", repeatPenalty, "a finite number > 0 (1 = off)");
        check(repeatLastN >= 0, "repeatLastN", repeatLastN, ">= 0 (0 = no penalties)");
        check(frequencyPenalty >= -2 && frequencyPenalty <= 2, "frequencyPenalty", frequencyPenalty, "[-2, 2] (0 = off)");
        check(presencePenalty >= -2 && presencePenalty <= 2, "presencePenalty", presencePenalty, "[-2, 2] (0 = off)");
    }

    /** Always the most likely token; no penalties. */
    public static SamplingParams greedy() {
        return new SamplingParams(0, 0, 1, 0, 1, 0, 0, 0, 0);
    }

    /** llama.cpp server's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalties (window 64). */
    public static SamplingParams defaults(long seed) {
        return new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1, 64, 0, 0, seed);
    }

    /** Whether any penalty changes a logit (llama.cpp skips the penalty step otherwise). */
    boolean penalises() {
        return repeatLastN > 0 && (repeatPenalty != 1 || frequencyPenalty != 0 || presencePenalty != 0);
    }

    private static void check(boolean valid, String field, Number value, String allowed) {
        if (!valid) {
            throw new IllegalArgumentException("sampling parameter " + field + " is " + value + " but must be " + allowed);
        }
    }
}
