package org.commonweal.inference.transformer;

import org.commonweal.inference.gguf.GgufException;
import org.commonweal.inference.gguf.GgufFile;

/**
 * The hyperparameters of a Llama-family transformer, read from a GGUF file's {@code <architecture>.*}
 * keys. {@code llama} covers Llama 2 and 3.x, TinyLlama, SmolLM and Mistral (normal RoPE); {@code qwen2}
 * adds biases to the query, key and value projections and uses NeoX-style RoPE.
 *
 * @param ropeFreqScale multiplies every rotation angle (1 / the linear scaling factor; 1 without scaling)
 */
public record ModelConfig(String architecture, int dim, int layers, int heads, int kvHeads, int headDim, int ffnDim,
        int vocabularySize, int contextLength, float ropeBase, float ropeFreqScale, boolean ropeNeox, float normEps,
        boolean qkvBias) {

    /** The architectures this forward pass implements. */
    public static final java.util.List<String> ARCHITECTURES = java.util.List.of("llama", "qwen2");

    public ModelConfig {
        if (dim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || ffnDim <= 0
                || vocabularySize <= 0 || contextLength <= 0) {
            throw new IllegalArgumentException("every size must be positive: " + this);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(heads + " attention heads cannot share " + kvHeads + " KV heads evenly");
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("RoPE needs an even head dimension, not " + headDim);
        }
    }

    /** Query width: heads x head dimension (equal to {@link #dim} in every supported model). */
    public int qDim() {
        return heads * headDim;
    }

    /** Key and value width: KV heads x head dimension. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Reads the configuration; fails naming the file and key for an unsupported or inconsistent model. */
    public static ModelConfig fromGguf(GgufFile file) throws GgufException {
        String arch = file.string("general.architecture");
        if (!ARCHITECTURES.contains(arch)) {
            throw new GgufException(file.path(), "has architecture '" + arch + "'; this node runs " + ARCHITECTURES);
        }
        String type = file.findString("general.type").orElse("model");
        if (!type.equals("model")) {
            throw new GgufException(file.path(), "is a GGUF '" + type + "', not a model"
                    + (type.equals("adapter") ? "; adapters are installed as adapter bundles on top of a base model" : ""));
        }
        int dim = positive(file, arch + ".embedding_length");
        int heads = positive(file, arch + ".attention.head_count");
        int kvHeads = (int) file.integer(arch + ".attention.head_count_kv", heads);
        int headDim = (int) file.integer(arch + ".attention.key_length", dim / heads);
        int vocab = file.has(arch + ".vocab_size") ? positive(file, arch + ".vocab_size")
                : file.strings("tokenizer.ggml.tokens").length;
        String scaling = file.findString(arch + ".rope.scaling.type").orElse("none");
        float freqScale = switch (scaling) {
            case "none" -> 1.0f;
            case "linear" -> 1.0f / (float) file.number(arch + ".rope.scaling.factor", 1.0);
            default -> throw new GgufException(file.path(), "uses RoPE scaling '" + scaling
                    + "'; supported: none, linear, and Llama 3.x frequency factors (rope_freqs.weight)");
        };
        int ropeDims = (int) file.integer(arch + ".rope.dimension_count", headDim);
        if (ropeDims != headDim) {
            throw new GgufException(file.path(), "rotates " + ropeDims + " of " + headDim
                    + " dimensions per head (partial RoPE), which this forward pass does not implement");
        }
        try {
            return new ModelConfig(arch, dim, positive(file, arch + ".block_count"), heads, kvHeads, headDim,
                    positive(file, arch + ".feed_forward_length"), vocab, positive(file, arch + ".context_length"),
                    (float) file.number(arch + ".rope.freq_base", 10000.0), freqScale, arch.equals("qwen2"),
                    (float) file.number(arch + ".attention.layer_norm_rms_epsilon", 1e-5), arch.equals("qwen2"));
        } catch (IllegalArgumentException e) {
            throw new GgufException(file.path(), "has inconsistent hyperparameters: " + e.getMessage());
        }
    }

    private static int positive(GgufFile file, String key) throws GgufException {
        long value = file.integer(key);
        if (value <= 0 || value > (1 << 24)) {
            throw new GgufException(file.path(), "metadata key '" + key + "' is " + value + ", not a plausible size");
        }
        return (int) value;
    }
}
