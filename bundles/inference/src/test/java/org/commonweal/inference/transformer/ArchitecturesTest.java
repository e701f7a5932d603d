package org.commonweal.inference.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import org.commonweal.inference.gguf.GgufException;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.gguf.GgufWriter;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.KernelPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The variants no reference model covers, each against the scalar definition on a small random F32
 * model: {@code qwen2} (QKV biases, NeoX RoPE), Llama 3.x RoPE frequency factors with linear scaling,
 * tied embeddings, grouped-query attention; and the configuration errors.
 */
class ArchitecturesTest {

    @TempDir
    Path dir;

    private static final int DIM = 64;
    private static final int HEADS = 4;
    private static final int KV_HEADS = 2;
    private static final int FFN = 96;
    private static final int VOCAB = 100;

    private Path model(String arch, boolean tied, boolean ropeFactors, boolean linearScaling) throws IOException {
        SplittableRandom random = new SplittableRandom(arch.hashCode() + (tied ? 1 : 0) + (ropeFactors ? 2 : 0));
        GgufWriter w = new GgufWriter().putString("general.architecture", arch)
                .putU32(arch + ".embedding_length", DIM).putU32(arch + ".block_count", 2)
                .putU32(arch + ".attention.head_count", HEADS).putU32(arch + ".attention.head_count_kv", KV_HEADS)
                .putU32(arch + ".feed_forward_length", FFN).putU32(arch + ".context_length", 64)
                .putU32(arch + ".vocab_size", VOCAB).putF32(arch + ".rope.freq_base", 500000f)
                .putF32(arch + ".attention.layer_norm_rms_epsilon", 1e-6f);
        if (linearScaling) {
            w.putString(arch + ".rope.scaling.type", "linear").putF32(arch + ".rope.scaling.factor", 4f);
        }
        w.tensor("token_embd.weight", new long[] {DIM, VOCAB}, values(random, DIM * VOCAB, 1.0));
        if (!tied) {
            w.tensor("output.weight", new long[] {DIM, VOCAB}, values(random, DIM * VOCAB, 0.2));
        }
        w.tensor("output_norm.weight", new long[] {DIM}, norm(random, DIM));
        if (ropeFactors) {
            float[] factors = new float[DIM / HEADS / 2];
            for (int i = 0; i < factors.length; i++) {
                factors[i] = 1 + i % 5;
            }
            w.tensor("rope_freqs.weight", new long[] {factors.length}, factors);
        }
        int kv = DIM / HEADS * KV_HEADS;
        for (int l = 0; l < 2; l++) {
            String p = "blk." + l + ".";
            w.tensor(p + "attn_norm.weight", new long[] {DIM}, norm(random, DIM));
            w.tensor(p + "attn_q.weight", new long[] {DIM, DIM}, values(random, DIM * DIM, 0.3));
            w.tensor(p + "attn_k.weight", new long[] {DIM, kv}, values(random, DIM * kv, 0.3));
            w.tensor(p + "attn_v.weight", new long[] {DIM, kv}, values(random, DIM * kv, 0.1));
            if (arch.equals("qwen2")) {
                w.tensor(p + "attn_q.bias", new long[] {DIM}, values(random, DIM, 0.5));
                w.tensor(p + "attn_k.bias", new long[] {kv}, values(random, kv, 0.5));
                w.tensor(p + "attn_v.bias", new long[] {kv}, values(random, kv, 0.5));
            }
            w.tensor(p + "attn_output.weight", new long[] {DIM, DIM}, values(random, DIM * DIM, 0.1));
            w.tensor(p + "ffn_norm.weight", new long[] {DIM}, norm(random, DIM));
            w.tensor(p + "ffn_gate.weight", new long[] {DIM, FFN}, values(random, DIM * FFN, 0.1));
            w.tensor(p + "ffn_up.weight", new long[] {DIM, FFN}, values(random, DIM * FFN, 0.1));
            w.tensor(p + "ffn_down.weight", new long[] {FFN, DIM}, values(random, DIM * FFN, 0.1));
        }
        Path file = dir.resolve(arch + tied + ropeFactors + linearScaling + ".gguf");
        w.write(file);
        return file;
    }

    private static float[] values(SplittableRandom random, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        }
        return v;
    }

    private static float[] norm(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (0.6 + 0.8 * random.nextDouble());
        }
        return v;
    }

    private static double compare(Path model) throws IOException {
        try (GgufFile file = GgufFile.open(model); KernelPool pool = new KernelPool(2)) {
            ModelConfig config = ModelConfig.fromGguf(file);
            Weights weights = Weights.fromGguf(file, config);
            int[] tokens = {1, 17, 42, 99, 3, 64, 8, 8, 23, 50, 11, 2};
            float[] fast;
            try (KvCache cache = new KvCache(config, GgmlType.F32, 32)) {
                fast = new Transformer(config, weights).forward(List.of(new Transformer.Step(cache, tokens, true)), pool);
            }
            double[][] slow = new ScalarForward(config, weights).logits(tokens);
            double worst = 0;
            for (int t = 0; t < tokens.length; t++) {
                for (int i = 0; i < VOCAB; i++) {
                    worst = Math.max(worst, Math.abs(fast[t * VOCAB + i] - slow[t][i]));
                }
            }
            return worst;
        }
    }

    @Test
    void qwen2WithBiasesAndNeoxRope() throws IOException {
        Path model = model("qwen2", false, false, false);
        try (GgufFile file = GgufFile.open(model)) {
            ModelConfig config = ModelConfig.fromGguf(file);
            assertTrue(config.ropeNeox() && config.qkvBias());
        }
        assertTrue(compare(model) < 1e-3);
    }

    @Test
    void llama3RopeFactorsLinearScalingAndTiedEmbeddings() throws IOException {
        Path model = model("llama", true, true, true);
        try (GgufFile file = GgufFile.open(model)) {
            ModelConfig config = ModelConfig.fromGguf(file);
            assertEquals(0.25f, config.ropeFreqScale());
            Weights weights = Weights.fromGguf(file, config);
            assertEquals(weights.tokenEmbedding(), weights.output());
            assertTrue(weights.ropeFrequencyFactors().isPresent());
        }
        assertTrue(compare(model) < 1e-3);
    }

    @Test
    void theScalarCheckWouldCatchAWrongRope() throws IOException {
        // The same weights read as llama (normal RoPE, no biases) must give clearly different logits.
        Path qwen = model("qwen2", false, false, false);
        try (GgufFile file = GgufFile.open(qwen); KernelPool pool = new KernelPool(1)) {
            ModelConfig right = ModelConfig.fromGguf(file);
            ModelConfig wrong = new ModelConfig("qwen2", right.dim(), right.layers(), right.heads(), right.kvHeads(),
                    right.headDim(), right.ffnDim(), right.vocabularySize(), right.contextLength(), right.ropeBase(),
                    right.ropeFreqScale(), false, right.normEps(), true);
            Weights weights = Weights.fromGguf(file, right);
            int[] tokens = {1, 17, 42, 99, 3, 64};
            double[][] a = new ScalarForward(right, weights).logits(tokens);
            double[][] b = new ScalarForward(wrong, weights).logits(tokens);
            double diff = 0;
            for (int i = 0; i < VOCAB; i++) {
                diff = Math.max(diff, Math.abs(a[5][i] - b[5][i]));
            }
            assertTrue(diff > 0.05, "NeoX and normal RoPE differ by only " + diff);
        }
    }

    @Test
    void refusesWhatItCannotRun() throws IOException {
        Path adapter = dir.resolve("adapter.gguf");
        new GgufWriter().putString("general.architecture", "llama").putString("general.type", "adapter").write(adapter);
        try (GgufFile file = GgufFile.open(adapter)) {
            GgufException e = assertThrows(GgufException.class, () -> ModelConfig.fromGguf(file));
            assertTrue(e.getMessage().contains("is a GGUF 'adapter', not a model"), e.getMessage());
        }
        Path mamba = dir.resolve("mamba.gguf");
        new GgufWriter().putString("general.architecture", "mamba").write(mamba);
        try (GgufFile file = GgufFile.open(mamba)) {
            GgufException e = assertThrows(GgufException.class, () -> ModelConfig.fromGguf(file));
            assertTrue(e.getMessage().contains("has architecture 'mamba'; this node runs [llama, qwen2]"), e.getMessage());
        }
        Path missing = model("llama", false, false, false);
        try (GgufFile file = GgufFile.open(missing)) {
            ModelConfig config = ModelConfig.fromGguf(file);
            ModelConfig bigger = new ModelConfig("llama", DIM * 2, 2, HEADS, KV_HEADS, DIM * 2 / HEADS, FFN, VOCAB, 64,
                    10000, 1, false, 1e-5f, false);
            GgufException e = assertThrows(GgufException.class, () -> Weights.fromGguf(file, bigger));
            assertTrue(e.getMessage().contains("tensor 'token_embd.weight' has shape [64, 100] but the model's"
                    + " hyperparameters need [128, 100]"), e.getMessage());
            assertEquals(DIM, config.dim());
        }
    }
}
