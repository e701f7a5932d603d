package org.commonweal.inference;

/**
 * What a client may know of a loaded model.
 *
 * @param id the name requests use: the file name without {@code .gguf}
 * @param sha256 the hex SHA-256 of the GGUF file: receipts and provenance name the model by it
 * @param demo true for the built-in model with random weights (it produces nonsense, on purpose)
 */
public record ModelInfo(String id, String architecture, long parameters, String weightTypes, int contextLength,
        String sha256, boolean demo, String description) {
}
