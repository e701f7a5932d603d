package org.commonweal.inference;

import java.util.List;

import org.commonweal.inference.sampling.SamplingParams;

/**
 * A request to continue {@code prompt} (token ids, special tokens included).
 *
 * @param maxTokens the most tokens to generate; the context length also bounds it
 * @param stop strings that end generation when they appear in the text (they are not returned)
 * @param ignoreEndOfGeneration keep going past end-of-generation tokens (benchmarks)
 * @param adapter the name of the culture pack whose adapter applies, or null for the base model
 */
public record GenerationRequest(int[] prompt, SamplingParams sampling, int maxTokens, List<String> stop,
        boolean ignoreEndOfGeneration, String adapter) {

    /** A request to the base model, without adapter. */
    public GenerationRequest(int[] prompt, SamplingParams sampling, int maxTokens, List<String> stop,
            boolean ignoreEndOfGeneration) {
        this(prompt, sampling, maxTokens, stop, ignoreEndOfGeneration, null);
    }

    public GenerationRequest {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give at least one token");
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("max_tokens must be at least 0, not " + maxTokens);
        }
        prompt = prompt.clone();
        stop = List.copyOf(stop);
    }
}
