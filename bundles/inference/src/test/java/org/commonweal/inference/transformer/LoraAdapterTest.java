package org.commonweal.inference.transformer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;

import org.commonweal.inference.gguf.GgufException;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.gguf.GgufWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Adapters that do not fit their base model are refused, naming the file and the tensor. */
class LoraAdapterTest {

    @TempDir
    static Path dir;
    static Path base;

    @BeforeAll
    static void writeBase() throws IOException {
        base = dir.resolve("base.gguf");
        SyntheticModel.parse("demo-f32").write(base, 1, bytes -> { });
    }

    private static String refusal(Consumer<GgufWriter> adapter) throws IOException {
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama");
        adapter.accept(w);
        Path file = dir.resolve("adapter-" + System.nanoTime() + ".gguf");
        w.write(file);
        try (GgufFile b = GgufFile.open(base); GgufFile a = GgufFile.open(file)) {
            ModelConfig config = ModelConfig.fromGguf(b);
            Weights weights = Weights.fromGguf(b, config);
            GgufException e = assertThrows(GgufException.class, () -> LoraAdapter.fromGguf(a, config, weights, 1f));
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
            return e.getMessage();
        }
    }

    private static GgufWriter lora(GgufWriter w) {
        return w.putString("general.type", "adapter").putString("adapter.type", "lora").putF32("adapter.lora.alpha", 8);
    }

    @Test
    void refusesWhatIsNotALoraForThisBase() throws IOException {
        assertTrue(refusal(w -> { }).contains("is not a LoRA adapter"));
        assertTrue(refusal(w -> lora(w)).contains("holds no lora_a/lora_b tensor pair"));
        assertTrue(refusal(w -> lora(w).tensor("blk.0.attn_q.weight.lora_a", new long[] {128, 4}, new float[512]))
                .contains("has blk.0.attn_q.weight.lora_a without blk.0.attn_q.weight.lora_b"));
        assertTrue(refusal(w -> lora(w).tensor("blk.0.attn_q.weight.lora_a", new long[] {64, 4}, new float[256])
                .tensor("blk.0.attn_q.weight.lora_b", new long[] {4, 128}, new float[512]))
                .contains("do not fit the base matrix [128, 128]"));
        assertTrue(refusal(w -> lora(w).tensor("blk.0.attn_q.weight.lora_a", new long[] {128, 4}, new float[512])
                .tensor("blk.0.attn_q.weight.lora_b", new long[] {4, 128}, new float[512])
                .tensor("blk.9.attn_q.weight.lora_a", new long[] {128, 4}, new float[512]))
                .contains("has tensors this node cannot apply: [blk.9.attn_q.weight.lora_a]"));
    }
}
