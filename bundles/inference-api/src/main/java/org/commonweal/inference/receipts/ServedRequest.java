package org.commonweal.inference.receipts;

import java.util.List;

import org.commonweal.inference.sampling.SamplingParams;

/**
 * One request as the endpoint served it, everything a re-execution needs: the model file's and adapter's SHA-256,
 * the prompt token ids the model saw, the sampling parameters with the seed, the token limit applied, the stop
 * strings, and the output token ids.
 *
 * @param person the person's Ed25519 public key, 64 hex digits, as the client sent it
 * @param modelSha256 the hex SHA-256 of the model's GGUF file
 * @param adapter the culture pack's name, or {@code null} for the base model
 * @param adapterSha256 the hex SHA-256 of the pack's adapter file, or {@code null}
 * @param maxTokens the limit the generation ran with (after bounding by the context)
 */
public record ServedRequest(String person, String modelSha256, String adapter, String adapterSha256, int[] prompt,
        SamplingParams sampling, int maxTokens, List<String> stop, int[] output) {

    public ServedRequest {
        prompt = prompt.clone();
        output = output.clone();
        stop = List.copyOf(stop);
    }

    @Override
    public int[] prompt() {
        return prompt.clone();
    }

    @Override
    public int[] output() {
        return output.clone();
    }
}
