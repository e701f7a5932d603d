package org.commonweal.inference.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.commonweal.inference.TestData;
import org.commonweal.inference.gguf.GgufException;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.KernelPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A merged copy serves what base + adapter serves, up to requantization; metadata is copied byte for byte. */
class LoraMergeTest {

    @TempDir
    Path dir;

    @Test
    void mergedCopyMatchesTheAdapterAppliedAtInferenceTime() throws IOException {
        Path model = TestData.require("models", "tiny-llama-spm.Q8_0.gguf");
        Path lora = TestData.require("models", "tiny-llama-spm.lora-r8.F32.gguf");
        Path merged = dir.resolve("merged.gguf");
        try (GgufFile base = GgufFile.open(model); GgufFile adapter = GgufFile.open(lora)) {
            LoraMerge.write(base, adapter, 1.0f, merged, rows -> { });
        }
        int[] tokens = {1, 450, 4996, 17354, 1701, 29916, 432, 17204};
        float[] runtime;
        float[] copy;
        try (GgufFile base = GgufFile.open(model); GgufFile adapter = GgufFile.open(lora); GgufFile m = GgufFile.open(merged);
                KernelPool pool = new KernelPool(2)) {
            ModelConfig config = ModelConfig.fromGguf(base);
            Weights weights = Weights.fromGguf(base, config);
            LoraAdapter a = LoraAdapter.fromGguf(adapter, config, weights, 1.0f);
            try (KvCache cache = new KvCache(config, GgmlType.F32, tokens.length)) {
                runtime = new Transformer(config, weights).forward(List.of(new Transformer.Step(cache, tokens, true, a)), pool);
            }
            ModelConfig mergedConfig = ModelConfig.fromGguf(m);
            assertEquals(config, mergedConfig);
            try (KvCache cache = new KvCache(config, GgmlType.F32, tokens.length)) {
                copy = new Transformer(mergedConfig, Weights.fromGguf(m, mergedConfig))
                        .forward(List.of(new Transformer.Step(cache, tokens, true)), pool);
            }
            for (String key : List.of("tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "llama.block_count",
                    "tokenizer.ggml.add_bos_token")) {
                assertArrayEquals(base.rawValue(key), m.rawValue(key), key);
            }
            assertEquals(GgmlType.Q8_0, m.tensor("blk.0.attn_q.weight").type());
            assertTrue(m.string("commonweal.merged_adapter").contains("tiny-llama-spm.lora-r8.F32"));
            // Tensors the adapter does not touch are byte for byte the base's.
            assertEquals(-1, base.bytes(base.tensor("blk.0.attn_k.weight")).mismatch(m.bytes(m.tensor("blk.0.attn_k.weight"))));
            GgufException twice = assertThrows(GgufException.class,
                    () -> LoraMerge.write(m, adapter, 1.0f, dir.resolve("twice.gguf"), rows -> { }));
            assertTrue(twice.getMessage().contains("already has an adapter merged in"), twice.getMessage());
        }
        double worst = 0;
        double sq = 0;
        for (int i = 0; i < runtime.length; i++) {
            double diff = runtime[i] - copy[i];
            worst = Math.max(worst, Math.abs(diff));
            sq += diff * diff;
        }
        // Requantizing W + s·B·A to Q8_0 moves the logits about as far as Q8_0 against F32 (models/README.md).
        assertTrue(worst < 0.3 && Math.sqrt(sq / runtime.length) < 0.08, "max " + worst + ", rms " + Math.sqrt(sq / runtime.length));
    }
}
