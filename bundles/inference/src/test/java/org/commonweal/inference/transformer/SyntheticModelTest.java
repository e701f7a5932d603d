package org.commonweal.inference.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.kernels.Dequantize;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.KernelPool;
import org.commonweal.kernels.types.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Synthetic models are complete, loadable, sane (finite, varied logits; weights of the intended spread) and reproducible. */
class SyntheticModelTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = { "demo-q8_0", "15m-q4_k", "demo-f16", "15m-q4_0", "15m-q6_k", "15m-bf16", "demo-q4_1",
            "demo-q5_0", "15m-q5_k", "demo-f32" })
    void runsAndGivesFiniteVariedLogits(String spec) throws IOException {
        SyntheticModel model = SyntheticModel.parse(spec);
        Path path = dir.resolve(spec + ".gguf");
        long[] lastProgress = { -1 };
        model.write(path, 7, bytes -> lastProgress[0] = bytes);
        assertEquals(model.tensorBytes(), lastProgress[0], "progress ends at the tensor bytes");
        try (GgufFile file = GgufFile.open(path); KernelPool pool = new KernelPool(2)) {
            ModelConfig config = ModelConfig.fromGguf(file);
            Weights weights = Weights.fromGguf(file, config);
            assertEquals(model.shape().dim, config.dim());
            assertEquals(model.shape().vocabularySize, file.strings("tokenizer.ggml.tokens").length);
            assertEquals(SyntheticModel.IM_END, file.strings("tokenizer.ggml.tokens")[260]);
            assertTrue(file.string("general.name").contains("random weights"));
            assertSpread(weights.layers().get(0).gate(), spec);
            assertSpread(weights.layers().get(0).down(), spec);

            Transformer transformer = new Transformer(config, weights);
            try (KvCache cache = new KvCache(config, GgmlType.F32, 16)) {
                float[] logits = transformer.forward(List.of(new Transformer.Step(cache, new int[] { 1, 300, 301, 5 }, true)), pool);
                float first = logits[0];
                boolean varied = false;
                for (float l : logits) {
                    assertTrue(Float.isFinite(l), spec + ": a logit is " + l);
                    varied |= l != first;
                }
                assertTrue(varied, spec + ": all logits equal");
                float[] next = transformer.forward(List.of(new Transformer.Step(cache, new int[] { 302 }, false)), pool);
                assertTrue(Float.isFinite(next[0]));
            }
        }
    }

    /** Dequantized weights: mean near 0, standard deviation near 1/sqrt(cols). */
    private static void assertSpread(WeightMatrix w, String spec) {
        int rows = Math.min(w.rows(), 64);
        float[] values = new float[rows * w.cols()];
        for (int r = 0; r < rows; r++) {
            Dequantize.row(w.type(), w.data(), w.rowOffset(r), values, r * w.cols(), w.cols());
        }
        double sum = 0;
        double squares = 0;
        for (float v : values) {
            sum += v;
            squares += (double) v * v;
        }
        double mean = sum / values.length;
        double std = Math.sqrt(squares / values.length - mean * mean);
        double target = 1 / Math.sqrt(w.cols());
        assertTrue(Math.abs(std / target - 1) < 0.15, spec + " " + w.type() + ": std " + std + ", wanted " + target);
        assertTrue(Math.abs(mean) < 0.1 * target, spec + " " + w.type() + ": mean " + mean + ", std " + target);
    }

    @Test
    void theSameSeedGivesTheSameBytesAndAnotherSeedOthers() throws IOException {
        SyntheticModel model = SyntheticModel.parse("demo-q4_0");
        model.write(dir.resolve("a.gguf"), 1, bytes -> { });
        model.write(dir.resolve("b.gguf"), 1, bytes -> { });
        model.write(dir.resolve("c.gguf"), 2, bytes -> { });
        byte[] a = Files.readAllBytes(dir.resolve("a.gguf"));
        assertArrayEquals(a, Files.readAllBytes(dir.resolve("b.gguf")));
        assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(dir.resolve("c.gguf"))));
    }

    @Test
    void theOneBillionShapeTiesItsOutputToTheEmbeddings() {
        SyntheticModel model = SyntheticModel.parse("1B-Q4_0");
        assertEquals(SyntheticModel.Shape.B1, model.shape());
        assertEquals("1b-q4_0", model.toString());
        // Llama 3.2 1B: 1.24 billion parameters in 2-D tensors, 18/32 bytes each in Q4_0, the output head tied.
        double params = model.tensorBytes() / (18.0 / 32);
        assertTrue(Math.abs(params / 1.2358e9 - 1) < 0.01, "parameters: " + params);
    }

    @Test
    void aBadSpecIsRefusedListingTheShapesAndTypes() {
        for (String spec : new String[] { "2b-q4_0", "1b-q3_k", "1b", "q4_0", "-", "" }) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SyntheticModel.parse(spec));
            assertTrue(e.getMessage().contains("'" + spec + "'") && e.getMessage().contains("demo, 15m, 110m, 1b")
                    && e.getMessage().contains("f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q4_k, q5_k, q6_k"), e.getMessage());
        }
    }

    @Test
    void fillerTokensAreLetterStrings() {
        assertEquals("a", SyntheticModel.letters(0));
        assertEquals("z", SyntheticModel.letters(25));
        assertEquals("aa", SyntheticModel.letters(26));
        assertEquals("zz", SyntheticModel.letters(26 + 26 * 26 - 1));
        assertEquals("aaa", SyntheticModel.letters(26 + 26 * 26));
    }
}
