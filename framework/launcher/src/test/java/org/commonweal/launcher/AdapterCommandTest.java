package org.commonweal.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cw adapter inspect}: a sound pack, a tampered one, and a jar that is no pack. */
class AdapterCommandTest {

    @TempDir
    Path dir;

    private Path pack(byte[] lora, String declaredSha, boolean header) throws Exception {
        String descriptor = """
                {"name": "xx-test", "languages": ["xx"], "baseModel": {"sha256": "%s"},
                 "lora": {"resource": "adapter/xx.gguf", "sha256": "%s"}, "trainingData": [], "synthetic": true}
                """.formatted("b".repeat(64), declaredSha);
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Bundle-SymbolicName", "org.example.xx");
        manifest.getMainAttributes().putValue("Bundle-Version", "1.0.0");
        if (header) {
            manifest.getMainAttributes().putValue("Commonweal-Culture-Pack", "adapter/culture-pack.json");
        }
        Path jar = dir.resolve("pack-" + System.nanoTime() + ".jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
            out.putNextEntry(new JarEntry("adapter/culture-pack.json"));
            out.write(descriptor.getBytes(StandardCharsets.UTF_8));
            out.putNextEntry(new JarEntry("adapter/xx.gguf"));
            out.write(lora);
        }
        return jar;
    }

    private static String sha(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void showsASoundPackAndRefusesATamperedOne() throws Exception {
        byte[] lora = "pretend these are LoRA weights".getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        assertEquals(0, AdapterCommand.inspect(pack(lora, sha(lora), true), new PrintStream(text, true, StandardCharsets.UTF_8)));
        assertTrue(text.toString(StandardCharsets.UTF_8).contains("culture pack xx-test"));
        assertTrue(text.toString(StandardCharsets.UTF_8).contains("the LoRA file matches its declared SHA-256"));

        text.reset();
        byte[] other = "weights changed after signing".getBytes(StandardCharsets.UTF_8);
        assertEquals(1, AdapterCommand.inspect(pack(other, sha(lora), true), new PrintStream(text, true, StandardCharsets.UTF_8)));
        assertTrue(text.toString(StandardCharsets.UTF_8).contains("REFUSED: the LoRA file's SHA-256 is " + sha(other)));
    }

    @Test
    void aJarWithoutTheHeaderIsNoPack() throws Exception {
        Path jar = pack(new byte[1], "c".repeat(64), false);
        LaunchException e = assertThrows(LaunchException.class, () -> AdapterCommand.inspect(jar, System.out));
        assertTrue(e.getMessage().contains("is not a culture pack"), e.getMessage());
        assertThrows(LaunchException.class, () -> AdapterCommand.inspect(dir.resolve("missing.jar"), System.out));
    }

}
