package org.commonweal.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import org.commonweal.inference.CulturePack;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code cw adapter}: culture pack bundles. */
@Command(name = "adapter", mixinStandardHelpOptions = true, description = "Culture pack bundles (a LoRA adapter with a"
        + " descriptor: languages, system prompt, content policy, locale, base model, training data).",
        subcommands = { AdapterCommand.Inspect.class, AdapterCommand.Merge.class })
final class AdapterCommand {

    /** {@code cw adapter inspect BUNDLE}: the descriptor, checked against the bundle's contents. */
    @Command(name = "inspect", mixinStandardHelpOptions = true, description = {
            "Show a culture pack bundle's descriptor and training-data manifest, and check that the LoRA file it"
                    + " carries has the SHA-256 the descriptor declares.", "Exit 1 if it does not." })
    static final class Inspect implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "BUNDLE", description = "The culture pack bundle (a jar).")
        Path bundle;

        @Override
        public Integer call() throws Exception {
            return inspect(bundle, System.out);
        }
    }

    /** {@code cw adapter merge}: a copy of a base model with an adapter merged in. */
    @Command(name = "merge", mixinStandardHelpOptions = true, description = {
            "Write a copy of BASE with the LoRA ADAPTER merged into its weights (W + s·B·A), for a node that serves"
                    + " that adapter only: no per-token delta, the same speed as the base model.",
            "Adapted matrices are requantized to their type (Q8_0, Q4_0, Q4_1, Q5_0), to Q8_0 from K-quants, to F32"
                    + " from float types; everything else is copied unchanged." })
    static final class Merge implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "BASE", description = "The base model (.gguf).")
        Path base;

        @Parameters(index = "1", paramLabel = "ADAPTER", description = "The LoRA adapter (.gguf).")
        Path adapter;

        @Parameters(index = "2", paramLabel = "OUT", description = "The merged model to write (.gguf).")
        Path out;

        @picocli.CommandLine.Option(names = "--scale", defaultValue = "1.0",
                description = "The adapter's scale, as llama.cpp's --lora-scaled (default: ${DEFAULT-VALUE}).")
        float scale;

        @Override
        public Integer call() throws Exception {
            if (Files.exists(out)) {
                throw new LaunchException(out + " exists; give a new file name for the merged model");
            }
            long start = System.nanoTime();
            try (org.commonweal.inference.gguf.GgufFile model = org.commonweal.inference.gguf.GgufFile.open(base);
                    org.commonweal.inference.gguf.GgufFile lora = org.commonweal.inference.gguf.GgufFile.open(adapter)) {
                org.commonweal.inference.transformer.LoraMerge.write(model, lora, scale, out,
                        rows -> System.err.print("\rmerged " + rows + " rows"));
            } catch (org.commonweal.inference.gguf.GgufException e) {
                throw new LaunchException(e.getMessage());
            }
            System.err.println();
            System.out.printf("wrote %s (%d MiB) in %d ms%n", out, Files.size(out) >> 20, (System.nanoTime() - start) / 1_000_000);
            return 0;
        }
    }

    static int inspect(Path bundle, PrintStream out) throws IOException, LaunchException {
        if (!Files.isRegularFile(bundle)) {
            throw new LaunchException("no bundle " + bundle + ". Fix: give the path of a culture pack jar");
        }
        try (JarFile jar = new JarFile(bundle.toFile())) {
            var manifest = jar.getManifest();
            String descriptorPath = manifest == null ? null : manifest.getMainAttributes().getValue(CulturePack.HEADER);
            if (descriptorPath == null) {
                throw new LaunchException(bundle + " is not a culture pack: its manifest has no " + CulturePack.HEADER
                        + " header naming a descriptor");
            }
            var attributes = manifest.getMainAttributes();
            String name = attributes.getValue("Bundle-SymbolicName");
            String version = attributes.getValue("Bundle-Version");
            byte[] descriptor = read(jar, descriptorPath, bundle);
            CulturePack pack;
            try {
                pack = CulturePack.parse(descriptor, name, version);
            } catch (IllegalArgumentException e) {
                throw new LaunchException(bundle + ": " + e.getMessage());
            }
            ZipEntry lora = jar.getEntry(pack.loraResource());
            if (lora == null) {
                throw new LaunchException(bundle + ": the descriptor names the LoRA file " + pack.loraResource()
                        + ", which the bundle lacks");
            }
            String actual;
            try (InputStream in = new DigestInputStream(jar.getInputStream(lora), sha256())) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
                actual = HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
            }
            out.printf("culture pack %s: %s%n", pack.name(), pack.title());
            out.printf("  bundle          %s %s%n", name, version);
            out.printf("  languages       %s%n", String.join(", ", pack.languages()));
            out.printf("  base model      SHA-256 %s%n", pack.baseModelSha256());
            out.printf("  LoRA            %s, %d bytes, SHA-256 %s, scale %s%n", pack.loraResource(), lora.getSize(),
                    pack.loraSha256(), pack.loraScale());
            out.printf("  descriptor      %s, SHA-256 %s%n", descriptorPath, pack.descriptorSha256());
            out.printf("  system prompt   %s%n", pack.systemPrompt().isBlank() ? "(none)" : pack.systemPrompt());
            for (CulturePack.PolicyRule rule : pack.policy()) {
                out.printf("  policy          %s %s: %s -> \"%s\"%n", rule.action(), rule.topic(), rule.words(), rule.message());
            }
            pack.locale().forEach((key, value) -> out.printf("  locale          %s = %s%n", key, value));
            out.printf("  training data   manifest SHA-256 %s%s%n", pack.trainingManifestSha256(),
                    pack.synthetic() ? " (synthetic pack: random weights, no training data)" : "");
            for (CulturePack.TrainingSource source : pack.trainingData()) {
                out.printf("    %s  %s, %d bytes, %s%n", source.sha256(), source.licence(), source.bytes(), source.name());
            }
            if (!actual.equals(pack.loraSha256())) {
                out.printf("REFUSED: the LoRA file's SHA-256 is %s, not the declared %s: the bundle is corrupt or"
                        + " tampered with%n", actual, pack.loraSha256());
                return 1;
            }
            out.println("  check           the LoRA file matches its declared SHA-256");
            return 0;
        }
    }

    private static byte[] read(JarFile jar, String path, Path bundle) throws IOException, LaunchException {
        ZipEntry entry = jar.getEntry(path);
        if (entry == null) {
            throw new LaunchException(bundle + ": its manifest names the descriptor " + path + ", which the bundle lacks");
        }
        try (InputStream in = jar.getInputStream(entry)) {
            return in.readAllBytes();
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
