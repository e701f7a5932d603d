package org.commonweal.inference.transformer;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.commonweal.inference.gguf.GgufException;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.gguf.TensorInfo;
import org.commonweal.kernels.types.WeightMatrix;

/**
 * The tensors of a Llama-family model, by llama.cpp's names, checked against the configuration's shapes:
 * matrices stay where the file holds them (mapped or allocated); norm vectors and biases are read into
 * floats.
 */
public record Weights(WeightMatrix tokenEmbedding, List<Layer> layers, float[] outputNorm, WeightMatrix output,
        Optional<float[]> ropeFrequencyFactors) {

    /** One transformer block; the biases are present only in {@code qwen2} models. */
    public record Layer(float[] attentionNorm, WeightMatrix q, WeightMatrix k, WeightMatrix v, WeightMatrix o,
            Optional<float[]> qBias, Optional<float[]> kBias, Optional<float[]> vBias, float[] ffnNorm,
            WeightMatrix gate, WeightMatrix up, WeightMatrix down) {
    }

    public static Weights fromGguf(GgufFile file, ModelConfig c) throws GgufException {
        WeightMatrix embedding = file.matrix("token_embd.weight", c.vocabularySize(), c.dim());
        // Tied embeddings: without output.weight the output head is the embedding matrix.
        WeightMatrix output = file.findTensor("output.weight").isPresent()
                ? file.matrix("output.weight", c.vocabularySize(), c.dim()) : embedding;
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            layers.add(new Layer(file.vector(p + "attn_norm.weight", c.dim()),
                    file.matrix(p + "attn_q.weight", c.qDim(), c.dim()),
                    file.matrix(p + "attn_k.weight", c.kvDim(), c.dim()),
                    file.matrix(p + "attn_v.weight", c.kvDim(), c.dim()),
                    file.matrix(p + "attn_output.weight", c.dim(), c.qDim()),
                    bias(file, c, p + "attn_q.bias", c.qDim()), bias(file, c, p + "attn_k.bias", c.kvDim()),
                    bias(file, c, p + "attn_v.bias", c.kvDim()),
                    file.vector(p + "ffn_norm.weight", c.dim()),
                    file.matrix(p + "ffn_gate.weight", c.ffnDim(), c.dim()),
                    file.matrix(p + "ffn_up.weight", c.ffnDim(), c.dim()),
                    file.matrix(p + "ffn_down.weight", c.dim(), c.ffnDim())));
        }
        Optional<TensorInfo> freqs = file.findTensor("rope_freqs.weight");
        Optional<float[]> factors = freqs.isPresent()
                ? Optional.of(file.vector("rope_freqs.weight", c.headDim() / 2)) : Optional.empty();
        return new Weights(embedding, List.copyOf(layers), file.vector("output_norm.weight", c.dim()), output, factors);
    }

    private static Optional<float[]> bias(GgufFile file, ModelConfig c, String name, int n) throws GgufException {
        if (!c.qkvBias()) {
            return Optional.empty();
        }
        return Optional.of(file.vector(name, n));
    }

    /** Bytes of weights read for one token of decode: every matrix but the embedding, which is looked up. */
    public long bytesPerToken() {
        long bytes = output.byteSize();
        for (Layer l : layers) {
            bytes += l.q.byteSize() + l.k.byteSize() + l.v.byteSize() + l.o.byteSize() + l.gate.byteSize()
                    + l.up.byteSize() + l.down.byteSize();
        }
        return bytes;
    }
}
