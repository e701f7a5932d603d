package org.commonweal.inference.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.commonweal.inference.TestData;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.KernelPool;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The forward pass against llama.cpp's own outputs for the tiny reference models (shared/testdata/models,
 * README there): teacher-forced logits at every prompt position within the stated tolerance, the top-1
 * rule, and llama.cpp's greedy continuation, teacher-forced, step by step.
 */
class LlamaCppReferenceTest {

    /** The README's tolerance for quantized files: max abs 0.3, RMS of the last vector 0.08. */
    private static final double MAX_ABS = 0.3;
    private static final double MAX_RMS = 0.08;
    private static final double TOP1_SLACK = 0.6;

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-spm.Q8_0", "tiny-llama-spm.Q4_K_M", "tiny-llama-spm.Q4_0",
            "tiny-llama-spm.Q8_0+lora-r8"})
    void matchesLlamaCpp(String name) throws IOException {
        JsonNode reference = new ObjectMapper().readTree(TestData.require("models", name + ".ref.json").toFile());
        Path model = TestData.require("models", reference.get("model").asText());
        Path adapterFile = reference.has("lora_adapter") ? TestData.require("models", reference.get("lora_adapter").asText()) : null;
        try (GgufFile file = GgufFile.open(model); KernelPool pool = new KernelPool(2);
                GgufFile adapterGguf = adapterFile == null ? null : GgufFile.open(adapterFile)) {
            ModelConfig config = ModelConfig.fromGguf(file);
            Weights weights = Weights.fromGguf(file, config);
            Transformer transformer = new Transformer(config, weights);
            LoraAdapter adapter = adapterGguf == null ? null
                    : LoraAdapter.fromGguf(adapterGguf, config, weights, (float) reference.get("lora_scale").asDouble());
            double worst = 0;
            int top1Agree = 0;
            int positions = 0;
            for (JsonNode prompt : reference.get("prompts")) {
                int[] tokens = ints(prompt.get("token_ids"));
                int[] greedy = ints(prompt.get("greedy_token_ids"));
                int[] all = new int[tokens.length + greedy.length - 1];
                System.arraycopy(tokens, 0, all, 0, tokens.length);
                System.arraycopy(greedy, 0, all, tokens.length, greedy.length - 1);
                float[] logits;
                try (KvCache cache = new KvCache(config, GgmlType.F32, all.length)) {
                    logits = transformer.forward(List.of(new Transformer.Step(cache, all, true, adapter)), pool);
                }
                int vocab = config.vocabularySize();
                String where = name + " " + prompt.get("name").asText();
                // Every prompt position: the reference's top 20 entries, and the top-1 rule.
                JsonNode top20 = prompt.get("top20_per_position");
                for (int p = 0; p < tokens.length; p++) {
                    JsonNode entries = top20.get(p);
                    for (JsonNode e : entries) {
                        double diff = Math.abs(logits[p * vocab + e.get(0).asInt()] - e.get(1).asDouble());
                        worst = Math.max(worst, diff);
                        assertTrue(diff <= MAX_ABS, where + " position " + p + " token " + e.get(0) + ": " + diff);
                    }
                    int ours = argmax(logits, p * vocab, vocab);
                    top1Agree += ours == entries.get(0).get(0).asInt() ? 1 : 0;
                    positions++;
                    double refMax = entries.get(0).get(1).asDouble();
                    Double refOfOurs = null;
                    for (JsonNode e : entries) {
                        if (e.get(0).asInt() == ours) {
                            refOfOurs = e.get(1).asDouble();
                        }
                    }
                    assertTrue(refOfOurs != null && refMax - refOfOurs <= TOP1_SLACK,
                            where + " position " + p + ": our top-1 " + ours + " is not near the reference's top");
                }
                // The whole last-position vector.
                JsonNode last = prompt.get("last_position_logits");
                double sq = 0;
                int at = (tokens.length - 1) * vocab;
                for (int i = 0; i < vocab; i++) {
                    double diff = logits[at + i] - last.get(i).asDouble();
                    sq += diff * diff;
                    assertTrue(Math.abs(diff) <= MAX_ABS, where + " last position, token " + i + ": " + diff);
                }
                double rms = Math.sqrt(sq / vocab);
                assertTrue(rms <= MAX_RMS, where + ": RMS " + rms);
                // Greedy, teacher-forced: our argmax must equal llama.cpp's wherever its margin is clear.
                JsonNode margins = prompt.get("greedy_top1_margin");
                for (int k = 0; k < greedy.length; k++) {
                    int ours = argmax(logits, (tokens.length - 1 + k) * vocab, vocab);
                    if (margins.get(k).asDouble() > TOP1_SLACK) {
                        assertTrue(ours == greedy[k], where + " greedy step " + k + ": " + ours + " != " + greedy[k]);
                    }
                }
            }
            assertTrue(top1Agree >= 0.95 * positions, name + ": top-1 agrees at " + top1Agree + " of " + positions);
            System.out.printf("%s: max abs diff %.4f over the top-20 entries, top-1 %d/%d%n", name, worst, top1Agree, positions);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-spm.Q8_0"})
    void givesTheSameBitsWhateverTheThreadsAndTheBatch(String name) throws IOException {
        Path model = TestData.require("models", name + ".gguf");
        try (GgufFile file = GgufFile.open(model); KernelPool one = new KernelPool(1); KernelPool two = new KernelPool(2)) {
            ModelConfig config = ModelConfig.fromGguf(file);
            Transformer transformer = new Transformer(config, Weights.fromGguf(file, config));
            int[] a = {1, 450, 4996, 17354, 1701, 29916};
            int[] b = {1, 379, 370, 2172};
            float[] alone;
            try (KvCache cache = new KvCache(config, GgmlType.F32, 16)) {
                alone = transformer.forward(List.of(new Transformer.Step(cache, a, true)), one);
            }
            // The same sequence, prompt then one token at a time, batched with another sequence.
            List<Float> pieces = new ArrayList<>();
            try (KvCache ca = new KvCache(config, GgmlType.F32, 16); KvCache cb = new KvCache(config, GgmlType.F32, 16)) {
                float[] first = transformer.forward(List.of(new Transformer.Step(ca, java.util.Arrays.copyOf(a, 3), true),
                        new Transformer.Step(cb, b, false)), two);
                add(pieces, first, 0, 3 * config.vocabularySize());
                for (int i = 3; i < a.length; i++) {
                    float[] next = transformer.forward(List.of(new Transformer.Step(cb, new int[] {i}, false),
                            new Transformer.Step(ca, new int[] {a[i]}, false)), i % 2 == 0 ? one : two);
                    add(pieces, next, config.vocabularySize(), config.vocabularySize());
                }
            }
            float[] batched = new float[pieces.size()];
            for (int i = 0; i < batched.length; i++) {
                batched[i] = pieces.get(i);
            }
            assertArrayEquals(alone, batched);
        }
    }

    @org.junit.jupiter.api.Test
    void adaptedAndBaseSequencesShareABatchWithoutChangingEachOther() throws IOException {
        Path model = TestData.require("models", "tiny-llama-spm.Q8_0.gguf");
        Path adapterFile = TestData.require("models", "tiny-llama-spm.lora-r8.F32.gguf");
        try (GgufFile file = GgufFile.open(model); GgufFile lora = GgufFile.open(adapterFile);
                KernelPool pool = new KernelPool(2)) {
            ModelConfig config = ModelConfig.fromGguf(file);
            Weights weights = Weights.fromGguf(file, config);
            Transformer transformer = new Transformer(config, weights);
            LoraAdapter adapter = LoraAdapter.fromGguf(lora, config, weights, 1.0f);
            LoraAdapter half = LoraAdapter.fromGguf(lora, config, weights, 0.5f);
            int[][] prompts = {{1, 450, 4996}, {1, 379, 370, 2172}, {1, 29871, 13}};
            LoraAdapter[] adapters = {adapter, null, half};
            int vocab = config.vocabularySize();
            float[][] alone = new float[3][];
            for (int i = 0; i < 3; i++) {
                try (KvCache cache = new KvCache(config, GgmlType.F32, 8)) {
                    alone[i] = transformer.forward(List.of(new Transformer.Step(cache, prompts[i], false, adapters[i])), pool);
                }
            }
            try (KvCache c0 = new KvCache(config, GgmlType.F32, 8); KvCache c1 = new KvCache(config, GgmlType.F32, 8);
                    KvCache c2 = new KvCache(config, GgmlType.F32, 8)) {
                float[] together = transformer.forward(List.of(new Transformer.Step(c0, prompts[0], false, adapters[0]),
                        new Transformer.Step(c1, prompts[1], false, null), new Transformer.Step(c2, prompts[2], false, adapters[2])), pool);
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(alone[i], java.util.Arrays.copyOfRange(together, i * vocab, (i + 1) * vocab), "sequence " + i);
                }
            }
            // The adapter does change the output: the base model's logits differ.
            try (KvCache cache = new KvCache(config, GgmlType.F32, 8)) {
                float[] base = transformer.forward(List.of(new Transformer.Step(cache, prompts[0], false)), pool);
                org.junit.jupiter.api.Assertions.assertFalse(java.util.Arrays.equals(base, alone[0]));
            }
        }
    }

    private static void add(List<Float> to, float[] from, int off, int n) {
        for (int i = 0; i < n; i++) {
            to.add(from[off + i]);
        }
    }

    static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[off + i] > x[off + best]) {
                best = i;
            }
        }
        return best;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
