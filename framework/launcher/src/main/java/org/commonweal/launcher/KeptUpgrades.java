package org.commonweal.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;

import org.commonweal.crypto.Sha256;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;

/**
 * Upgrades made by the management agent in a running node ({@code cw upgrade}), kept in
 * {@code <data>/management/running.json}, installed again when the node restarts on the same data directory: each
 * replaces the distribution's jar it replaced before, and only that jar, checked by SHA-256. A distribution that now
 * carries another jar for the bundle wins (the kept upgrade is dropped with a note), and so does a kept jar that was
 * changed on disk.
 */
final class KeptUpgrades {

    /** The framework property naming the bundles whose kept upgrade is installed (the agent reads it). */
    static final String REINSTALLED_PROPERTY = "commonweal.management.reinstalled";

    /** A kept upgrade that applies: install {@code keptJar} in place of {@code distributionJar}. */
    record KeptUpgrade(String symbolicName, String version, Path distributionJar, Path keptJar) {
    }

    private KeptUpgrades() {
    }

    static List<KeptUpgrade> read(Distribution distribution, Path dataDirectory, PrintStream notes) {
        Path file = dataDirectory.resolve("management").resolve("running.json");
        List<KeptUpgrade> kept = new ArrayList<>();
        if (!Files.isRegularFile(file)) {
            return kept;
        }
        JsonObject entries;
        try (InputStream in = Files.newInputStream(file); JsonReader reader = Json.createReader(in)) {
            entries = reader.readObject();
        } catch (IOException | RuntimeException e) {
            notes.println("warning: " + file + " cannot be read (" + e.getMessage() + "); the node runs the distribution's"
                    + " bundles, without the upgrades made with cw upgrade");
            return kept;
        }
        for (Map.Entry<String, JsonValue> entry : entries.entrySet()) {
            String bsn = entry.getKey();
            JsonObject state = entry.getValue().asJsonObject();
            JsonObject base = state.getJsonObject("distribution");
            JsonObject current = state.getJsonObject("current");
            try {
                Path distributionJar = null;
                for (Distribution.BundleArtifact artifact : distribution.bundles()) {
                    if (bsn.equals(symbolicName(artifact.jar()))) {
                        distributionJar = artifact.jar();
                    }
                }
                if (distributionJar == null) {
                    notes.println("note: " + bsn + " was upgraded with cw upgrade, but the distribution no longer has it;"
                            + " the upgrade is dropped");
                    continue;
                }
                if (!sha256(distributionJar).equals(base.getString("sha256"))) {
                    notes.println("note: the distribution now carries another " + bsn + " than the one cw upgrade replaced;"
                            + " the distribution's is used and the upgrade to " + current.getString("version") + " is dropped");
                    continue;
                }
                Path jar = Path.of(current.getString("jar"));
                if (!sha256(jar).equals(current.getString("sha256"))) {
                    notes.println("warning: the kept jar " + jar + " of " + bsn + " " + current.getString("version") + " was"
                            + " changed since it was verified; the distribution's " + bsn + " is used. Fix: cw upgrade " + bsn
                            + "@" + current.getString("version") + " fetches it again");
                    continue;
                }
                if (!current.getString("sha256").equals(base.getString("sha256"))) {
                    kept.add(new KeptUpgrade(bsn, current.getString("version"), distributionJar, jar));
                }
            } catch (IOException | RuntimeException e) {
                notes.println("warning: the kept upgrade of " + bsn + " cannot be applied (" + e + "); the distribution's"
                        + " bundle is used");
            }
        }
        return kept;
    }

    private static String symbolicName(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            var manifest = file.getManifest();
            String name = manifest == null ? null : manifest.getMainAttributes().getValue("Bundle-SymbolicName");
            return name == null ? null : name.split(";")[0].strip();
        }
    }

    private static String sha256(Path file) throws IOException {
        return HexFormat.of().formatHex(Sha256.hash(Files.readAllBytes(file)));
    }
}
