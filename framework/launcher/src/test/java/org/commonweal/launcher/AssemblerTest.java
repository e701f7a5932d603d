package org.commonweal.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.repo.Artifact;
import org.commonweal.repo.LocalRepository;
import org.commonweal.repo.LockFile;
import org.commonweal.repo.RepositoryException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AssemblerTest {

    static final PrivateKey AUTHOR = Ed25519.fromSeed(new byte[32]);

    @TempDir
    Path temp;
    Path repo;
    Path dist;

    static Path bundle(Path dir, String bsn, String version, Map<String, String> headers) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", bsn);
        main.putValue("Bundle-Version", version);
        headers.forEach(main::putValue);
        Files.createDirectories(dir);
        Path jar = dir.resolve(bsn + "-" + version + ".jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            JarEntry entry = new JarEntry("META-INF/MANIFEST.MF");
            entry.setTime(0);
            out.putNextEntry(entry);
            manifest.write(out);
            entry = new JarEntry("META-INF/maven/org.example/" + bsn + "/pom.properties");
            entry.setTime(0);
            out.putNextEntry(entry);
            out.write(("groupId=org.example\nartifactId=" + bsn + "\nversion=" + version + "\n").getBytes());
        }
        return jar;
    }

    @BeforeEach
    void repositoryAndFeature() throws Exception {
        repo = temp.resolve("repo");
        Path jars = temp.resolve("jars");
        List<Path> bundles = List.of(
                bundle(jars, "org.example.api", "1.0.0", Map.of("Export-Package", "org.example.api;version=\"1.0.0\"")),
                bundle(jars, "org.example.impl", "1.2.0", Map.of("Import-Package",
                        "org.example.api;version=\"[1.0,2)\",org.osgi.framework;version=\"[1.10,2)\"",
                        "Require-Capability", "osgi.ee;filter:=\"(&(osgi.ee=JavaSE)(version=25))\"")),
                bundle(jars, "org.example.engine.bft", "1.0.0",
                        Map.of("Provide-Capability", "commonweal.engine;commonweal.engine=consensus;kind=bft")),
                bundle(jars, "org.example.unused", "1.0.0", Map.of()));
        LocalRepository.at(repo).publish(bundles.stream().map(j -> new LocalRepository.Publication(j, null)).toList(), AUTHOR);
        dist = temp.resolve("distributions").resolve("test");
        writeFeature("org.example.*", "[]", "(commonweal.engine=consensus)");
    }

    void writeFeature(String pattern, String revokedKeys, String engineFilter) throws IOException {
        Files.createDirectories(dist);
        Files.writeString(dist.resolve("feature.json"), """
                {
                  "feature-resource-version": "1.0",
                  "id": "org.example:test:1.0.0",
                  "name": "test",
                  "bundles": [ { "id": "org.example:org.example.impl:1.2.0" } ],
                  "extensions": {
                    "commonweal-assembly": {
                      "type": "json", "kind": "mandatory",
                      "json": {
                        "requirements": [ { "description": "a consensus engine", "namespace": "commonweal.engine",
                                            "filter": "%s" } ],
                        "repositories": [ "../../repo" ],
                        "trust": { "publishers": [ { "name": "author", "key": "%s", "bundles": [ "%s" ] } ],
                                   "revoked": { "keys": %s } }
                      }
                    }
                  }
                }
                """.formatted(engineFilter, AUTHOR.publicKey().hex(), pattern, revokedKeys));
    }

    Assembler.Result assemble(String out, boolean update) throws Exception {
        return Assembler.assemble(new Assembler.Options(dist, null, temp.resolve(out), update, List.of()));
    }

    @Test
    void resolvesWritesTheLockAndAssemblesTheSameArchiveAgainFromIt() throws Exception {
        Assembler.Result first = assemble("out1", false);
        assertTrue(first.resolved());
        assertEquals(List.of("org.example.impl", "org.example.engine.bft", "org.example.api"),
                first.artifacts().stream().map(Artifact::symbolicName).toList());
        assertTrue(Files.isRegularFile(dist.resolve(LockFile.FILE)));
        Distribution assembled = Distribution.load(first.folder());
        assertEquals(List.of("org.example:org.example.impl:1.2.0", "org.example:org.example.engine.bft:1.0.0",
                "org.example:org.example.api:1.0.0"), assembled.bundles().stream().map(Distribution.BundleArtifact::id).toList());
        Assembler.verifyAssembled(assembled);

        Assembler.Result second = assemble("out2", false);
        assertFalse(second.resolved());
        assertArrayEquals(Files.readAllBytes(first.archive()), Files.readAllBytes(second.archive()));
    }

    @Test
    void assemblesFromARepositoryServedOverHttpAsFromItsFolder() throws Exception {
        Assembler.Result fromFolder = assemble("out1", false);
        try (var server = org.commonweal.repo.RepositoryServer.start(repo, "127.0.0.1", 0)) {
            Assembler.Result overHttp = Assembler.assemble(new Assembler.Options(dist, server.uri().toString(),
                    temp.resolve("out2"), true, List.of()));
            assertTrue(overHttp.resolved());
            assertArrayEquals(Files.readAllBytes(fromFolder.archive()), Files.readAllBytes(overHttp.archive()));
        }
    }

    @Test
    void theTrustRootsMayBeTheDistributionsOwnTrustFile() throws Exception {
        Files.writeString(dist.resolve("trust.json"), """
                { "publishers": [ { "name": "author", "key": "%s", "bundles": [ "org.commonweal.*" ] } ] }
                """.formatted(AUTHOR.publicKey().hex()));
        Files.writeString(dist.resolve("feature.json"), Files.readString(dist.resolve("feature.json"))
                .replaceAll("(?s)\"trust\": \\{.*?\\} \\}", "\"trust\": \"trust.json\""));
        RepositoryException e = assertThrows(RepositoryException.class, () -> assemble("out", false));
        assertTrue(e.getMessage().contains("under " + dist.resolve("trust.json")), e.getMessage());
    }

    @Test
    void aLockMadeForOtherInputsIsRefusedUnlessUpdate() throws Exception {
        assemble("out1", false);
        writeFeature("org.example.*", "[]", "(&(commonweal.engine=consensus)(kind=bft))");
        RepositoryException e = assertThrows(RepositoryException.class, () -> assemble("out2", false));
        assertEquals("lock file " + dist.resolve(LockFile.FILE) + " was made for other inputs: the feature's bundles or"
                + " requirements changed since. Fix: assemble with --update to resolve again and rewrite the lock", e.getMessage());
        assertTrue(assemble("out2", true).resolved());
    }

    @Test
    void aTamperedArtifactIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path jar = repo.resolve("bundles/org.example.api/org.example.api-1.0.0.jar");
        byte[] bytes = Files.readAllBytes(jar);
        bytes[bytes.length - 40] ^= 1;
        Files.write(jar, bytes);
        RepositoryException e = assertThrows(RepositoryException.class, () -> assemble("out", false));
        assertTrue(e.getMessage().startsWith("artifact org.example.api 1.0.0 (" + repo.normalize()
                + "/bundles/org.example.api/org.example.api-1.0.0.jar) is refused: its content does not match the signed"
                + " index"), e.getMessage());
        assertFalse(Files.exists(temp.resolve("out")));
    }

    @Test
    void aPublisherTheTrustRootsDoNotAcceptForABundleIsRefused() throws Exception {
        writeFeature("org.commonweal.*", "[]", "(commonweal.engine=consensus)");
        RepositoryException e = assertThrows(RepositoryException.class, () -> assemble("out", false));
        assertTrue(e.getMessage().startsWith("artifact org.example.impl 1.2.0"), e.getMessage());
        assertTrue(e.getMessage().contains("its publisher author (" + AUTHOR.publicKey() + ") may publish only"
                + " [org.commonweal.*]"), e.getMessage());
    }

    @Test
    void aRevokedKeyIsRefused() throws Exception {
        writeFeature("org.example.*", "[\"" + AUTHOR.publicKey().hex() + "\"]", "(commonweal.engine=consensus)");
        RepositoryException e = assertThrows(RepositoryException.class, () -> assemble("out", false));
        assertTrue(e.getMessage().contains("is refused: it is signed by key " + AUTHOR.publicKey() + ", which"), e.getMessage());
        assertTrue(e.getMessage().contains("revokes"), e.getMessage());
    }

    @Test
    void aMissingRequirementNamesItFirst() throws Exception {
        writeFeature("org.example.*", "[]", "(commonweal.engine=inference)");
        RepositoryException e = assertThrows(RepositoryException.class, () -> assemble("out", false));
        assertTrue(e.getMessage().startsWith("""
                distribution test cannot be assembled: a requirement that nothing in the repository satisfies.
                  distribution test needs a consensus engine: nothing provides it."""), e.getMessage());
    }

    @Test
    void aBundleChangedAfterAssemblyIsRefusedAtStart() throws Exception {
        Assembler.Result result = assemble("out", false);
        Distribution assembled = Distribution.load(result.folder());
        Path jar = assembled.bundles().get(0).jar();
        Files.writeString(jar, "not the signed bundle");
        LaunchException e = assertThrows(LaunchException.class, () -> Assembler.verifyAssembled(assembled));
        assertTrue(e.getMessage().startsWith("bundle org.example.impl 1.2.0 (" + jar + ") is refused: its SHA-256"), e.getMessage());
    }
}
