package org.commonweal.inference.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.commonweal.inference.CulturePack;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.transformer.LoraAdapter;
import org.commonweal.inference.transformer.ModelConfig;
import org.commonweal.inference.transformer.SyntheticModel;
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
        try (GgufFile file = GgufFile.open(base)) {
            SyntheticModel.writeLora(ModelConfig.fromGguf(file), RANK,
                    List.of(LoraAdapter.Projection.Q, LoraAdapter.Projection.V), seed, target);
        }
    }
}
