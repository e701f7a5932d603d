package org.commonweal.inference.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import org.commonweal.inference.CulturePack;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.gguf.GgufWriter;
import org.commonweal.inference.transformer.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The sample culture packs (examples/culture-packs) carry small random LoRA files for the built-in demo model
 * and descriptors naming both digests. This regenerates them and checks the committed files are what it
 * writes; after a change to the demo model, run with {@code -Dregenerate=true} to rewrite them.
 */
class SampleCulturePacksTest {

    /** The packs, each with its seed. */
    private static final List<String> PACKS = List.of("sw-ke", "hi-in", "pt-br");
    private static final int RANK = 4;

    @TempDir
    Path dir;

    @Test
    void committedSamplesAreWhatTheGeneratorWrites() throws IOException {
        Path examples = Path.of("../../examples/culture-packs").toAbsolutePath().normalize();
        assumeTrue(Files.isDirectory(examples), "no examples/culture-packs beside this module");
        Path demo = DemoModel.ensure(dir);
        String demoSha = LoadedModel.sha256(demo);
        boolean regenerate = Boolean.getBoolean("regenerate");
        for (int i = 0; i < PACKS.size(); i++) {
            String name = PACKS.get(i);
            Path resources = examples.resolve(name).resolve("src/main/resources/adapter");
            Path lora = dir.resolve(name + ".gguf");
            writeLora(demo, lora, 1000 + i);
            String loraSha = LoadedModel.sha256(lora);
            Path descriptor = resources.resolve("culture-pack.json");
            ObjectNode json = (ObjectNode) new ObjectMapper().readTree(descriptor.toFile());
            ((ObjectNode) json.get("baseModel")).put("sha256", demoSha);
            ((ObjectNode) json.get("lora")).put("sha256", loraSha);
            byte[] expected = (new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            if (regenerate) {
                Files.copy(lora, resources.resolve(name + ".gguf"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Files.write(descriptor, expected);
            }
            String fix = "; regenerate with ./mvnw -B -o -pl bundles/inference test -Dtest=SampleCulturePacksTest"
                    + " -Dregenerate=true";
            assertArrayEquals(Files.readAllBytes(lora), Files.readAllBytes(resources.resolve(name + ".gguf")),
                    name + ".gguf differs from what the generator writes" + fix);
            assertArrayEquals(expected, Files.readAllBytes(descriptor), name + " culture-pack.json is stale" + fix);
            CulturePack pack = CulturePack.parse(expected, "sample", "1.0.0");
            assertEquals(name, pack.name());
        }
    }

    /** A rank-4 LoRA on the query and value projections of every layer of the model in {@code base}. */
    static void writeLora(Path base, Path target, long seed) throws IOException {
        ModelConfig c;
        try (GgufFile file = GgufFile.open(base)) {
            c = ModelConfig.fromGguf(file);
        }
        SplittableRandom random = new SplittableRandom(seed);
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama").putString("general.type", "adapter")
                .putString("adapter.type", "lora").putF32("adapter.lora.alpha", 2 * RANK)
                .putString("general.name", "sample culture pack adapter: random weights (seed " + seed + ")");
        for (int l = 0; l < c.layers(); l++) {
            for (String projection : List.of("attn_q", "attn_v")) {
                int out = projection.equals("attn_q") ? c.qDim() : c.kvDim();
                String name = "blk." + l + "." + projection + ".weight.lora_";
                w.tensor(name + "a", new long[] {c.dim(), RANK}, values(random, c.dim() * RANK, 0.1));
                w.tensor(name + "b", new long[] {RANK, out}, values(random, RANK * out, 0.1));
            }
        }
        w.write(target);
    }

    private static float[] values(SplittableRandom random, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        }
        return v;
    }
}
