package org.commonweal.repo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import javax.xml.XMLConstants;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.SchemaFactory;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Version;
import org.osgi.resource.Capability;

class RepositoryTest {

    static final PrivateKey AUTHOR = Ed25519.fromSeed(new byte[32]);
    static final PrivateKey OTHER = Ed25519.fromSeed(filled(7));

    @TempDir
    Path temp;
    Path repo;
    Path api;
    Path impl;

    static byte[] filled(int value) {
        byte[] seed = new byte[32];
        java.util.Arrays.fill(seed, (byte) value);
        return seed;
    }

    @BeforeEach
    void bundles() throws IOException {
        repo = temp.resolve("repo");
        api = TestBundles.bundle("org.example.api", "1.0.0").exports("org.example.api;version=\"1.0.0\"")
                .provides("osgi.service;objectClass:List<String>=\"org.example.api.Greeter\"")
                .writeTo(temp.resolve("jars"));
        impl = TestBundles.bundle("org.example.impl", "1.2.0").imports("org.example.api;version=\"[1.0,2)\"")
                .requires("osgi.extender;filter:=\"(&(osgi.extender=osgi.component)(version>=1.5)(!(version>=2)))\","
                        + "osgi.ee;filter:=\"(&(osgi.ee=JavaSE)(version=25))\"")
                .writeTo(temp.resolve("jars"));
    }

    LocalRepository.Published publish(PrivateKey key, Path... jars) throws Exception {
        return LocalRepository.at(repo).publish(
                java.util.Arrays.stream(jars).map(j -> new LocalRepository.Publication(j, null)).toList(), key);
    }

    RepositoryVerifier.VerifiedIndex verifyAll(TrustPolicy policy) throws Exception {
        RepositoryVerifier verifier = new RepositoryVerifier(policy);
        RepositoryVerifier.VerifiedIndex verified = verifier.verifyIndex(new RepositorySource.Folder(repo));
        for (Artifact artifact : verified.index().artifacts()) {
            verifier.readVerified(verified, artifact);
        }
        return verified;
    }

    static TrustPolicy trusting(PrivateKey key, String... patterns) {
        return new TrustPolicy("trust.json", List.of(new TrustPolicy.Publisher("author", key.publicKey(), List.of(patterns))),
                Set.of(), Set.of());
    }

    @Test
    void publishedBundlesVerifyAndListWithTheirCapabilities() throws Exception {
        LocalRepository.Published published = publish(AUTHOR, impl, api);
        assertEquals(2, published.added().size());
        RepositoryVerifier.VerifiedIndex verified = verifyAll(trusting(AUTHOR, "org.example.*"));
        List<Artifact> artifacts = verified.index().artifacts();
        assertEquals(List.of("org.example.api", "org.example.impl"), artifacts.stream().map(Artifact::symbolicName).toList());
        Artifact implArtifact = artifacts.get(1);
        assertEquals(new Version(1, 2, 0), implArtifact.version());
        assertEquals("org.example:org.example.impl:1.2.0", implArtifact.mavenId());
        assertEquals("bundles/org.example.impl/org.example.impl-1.2.0.jar", implArtifact.path());
        assertEquals(AUTHOR.publicKey(), implArtifact.publisher());
        Set<String> namespaces = new java.util.TreeSet<>();
        implArtifact.resource().getRequirements(null).forEach(r -> namespaces.add(r.getNamespace()));
        assertEquals(Set.of("osgi.wiring.package", "osgi.extender", "osgi.ee"), namespaces);
        List<Capability> services = artifacts.get(0).resource().getCapabilities("osgi.service");
        assertEquals(1, services.size());
        String xml = new String(verified.xml(), StandardCharsets.UTF_8);
        assertTrue(xml.contains("<attribute name=\"url\" value=\"bundles/org.example.api/org.example.api-1.0.0.jar\"/>"), xml);
        assertTrue(xml.contains("<attribute name=\"size\" value=\"" + Files.size(api) + "\" type=\"Long\"/>"), xml);
    }

    @Test
    void theIndexConformsToTheR5Schema() throws Exception {
        publish(AUTHOR, api, impl);
        try (InputStream xsd = getClass().getClassLoader().getResourceAsStream("xmlns/repository/v1.0.0/repository.xsd")) {
            var schema = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI).newSchema(new StreamSource(xsd));
            schema.newValidator().validate(new StreamSource(new ByteArrayInputStream(
                    Files.readAllBytes(repo.resolve(RepositoryIndex.INDEX_FILE)))));
        }
    }

    @Test
    void publishingIsDeterministicAndIdempotent() throws Exception {
        publish(AUTHOR, api, impl);
        byte[] first = Files.readAllBytes(repo.resolve(RepositoryIndex.INDEX_FILE));
        byte[] firstSignature = Files.readAllBytes(repo.resolve(RepositoryIndex.SIGNATURE_FILE));
        LocalRepository.Published again = publish(AUTHOR, impl, api);
        assertEquals(0, again.added().size());
        assertEquals(2, again.unchanged().size());
        assertArrayEquals(first, Files.readAllBytes(repo.resolve(RepositoryIndex.INDEX_FILE)));
        // One at a time, in the other order, into a new repository: the same bytes (Ed25519 signatures are deterministic).
        repo = temp.resolve("repo2");
        publish(AUTHOR, impl);
        publish(AUTHOR, api);
        assertArrayEquals(first, Files.readAllBytes(repo.resolve(RepositoryIndex.INDEX_FILE)));
        assertArrayEquals(firstSignature, Files.readAllBytes(repo.resolve(RepositoryIndex.SIGNATURE_FILE)));
    }

    @Test
    void aPublishedVersionNeverChanges() throws Exception {
        publish(AUTHOR, api);
        Path changed = TestBundles.bundle("org.example.api", "1.0.0").exports("org.example.api;version=\"1.1.0\"")
                .writeTo(temp.resolve("changed"));
        RepositoryException e = assertThrows(RepositoryException.class, () -> publish(AUTHOR, changed));
        assertTrue(e.getMessage().startsWith("bundle org.example.api 1.0.0 (" + changed + ") is already in "), e.getMessage());
        assertTrue(e.getMessage().contains("Fix: give the bundle a new Bundle-Version"), e.getMessage());
    }

    @Test
    void aMavenIdThatIsNotAPlainNameIsRefused() throws Exception {
        Path evil = TestBundles.bundle("org.example.evil", "1.0.0").mavenId("..:..:1.0").writeTo(temp.resolve("evil"));
        RepositoryException e = assertThrows(RepositoryException.class, () -> publish(AUTHOR, evil));
        assertTrue(e.getMessage().startsWith(evil + " (bundle org.example.evil): '..:..:1.0' is not a Maven id"), e.getMessage());
    }

    @Test
    void aJarThatIsNotABundleIsRefused() throws Exception {
        Path plain = temp.resolve("plain.jar");
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(plain), new java.util.jar.Manifest())) {
            out.putNextEntry(new java.util.jar.JarEntry("x.txt"));
        }
        RepositoryException e = assertThrows(RepositoryException.class, () -> publish(AUTHOR, plain));
        assertEquals(plain + " is not a bundle: its manifest has no Bundle-SymbolicName. Fix: build it with bnd"
                + " (bnd-maven-plugin), which writes an OSGi manifest", e.getMessage());
        assertTrue(Files.notExists(repo.resolve(RepositoryIndex.INDEX_FILE)));
    }

    @Test
    void aTamperedArtifactIsRefusedNamingIt() throws Exception {
        publish(AUTHOR, api, impl);
        Path jar = repo.resolve("bundles/org.example.impl/org.example.impl-1.2.0.jar");
        byte[] bytes = Files.readAllBytes(jar);
        bytes[bytes.length / 2] ^= 1;
        Files.write(jar, bytes);
        RepositoryException e = assertThrows(RepositoryException.class, () -> verifyAll(trusting(AUTHOR, "*")));
        assertTrue(e.getMessage().startsWith("artifact org.example.impl 1.2.0 (" + repo
                + "/bundles/org.example.impl/org.example.impl-1.2.0.jar) is refused: its content does not match the signed"
                + " index"), e.getMessage());
        // and publishing over it is refused too: the index is never re-signed over a changed jar
        assertThrows(RepositoryException.class, () -> publish(AUTHOR, impl));
    }

    @Test
    void aTamperedIndexIsRefused() throws Exception {
        publish(AUTHOR, api, impl);
        Path index = repo.resolve(RepositoryIndex.INDEX_FILE);
        Files.writeString(index, Files.readString(index).replace("version=\"[1.0,2)\"", "version=\"[0.0,2)\""));
        String xml = Files.readString(index);
        Files.writeString(index, xml.replace("1.2.0", "1.2.1"));
        RepositoryException e = assertThrows(RepositoryException.class, () -> verifyAll(null));
        assertEquals("index " + repo + "/index.xml does not match its signature by key " + AUTHOR.publicKey()
                + ": it was changed after it was signed. Fix: fetch the repository again from its publisher, or re-publish"
                + " to it with cw repo publish", e.getMessage());
    }

    @Test
    void anEntryReSignedByAnotherIndexSignerStillNeedsItsPublishersSignature() throws Exception {
        publish(AUTHOR, api);
        // Someone changes the entry's Maven id and re-signs the index with their own key.
        Path index = repo.resolve(RepositoryIndex.INDEX_FILE);
        byte[] forged = Files.readString(index).replace("org.example:org.example.api:1.0.0", "org.evil:api:1.0.0")
                .getBytes(StandardCharsets.UTF_8);
        Files.write(index, forged);
        Files.write(repo.resolve(RepositoryIndex.SIGNATURE_FILE), IndexSignature.sign(forged, OTHER).toBytes());
        RepositoryException e = assertThrows(RepositoryException.class, () -> verifyAll(null));
        assertTrue(e.getMessage().startsWith("artifact org.example.api 1.0.0 (bundles/org.example.api/org.example.api-1.0.0.jar)"
                + " in " + repo + " is refused: its signature does not match its entry"), e.getMessage());
    }

    @Test
    void anUnsignedArtifactIsRefusedEvenInASignedIndex() throws Exception {
        publish(AUTHOR, api);
        // An entry without its publisher's signature, in an index re-signed by a valid key.
        Path index = repo.resolve(RepositoryIndex.INDEX_FILE);
        byte[] unsigned = Files.readString(index)
                .replaceAll("(?s)\\s*<capability namespace=\"commonweal.artifact\">.*?</capability>", "")
                .getBytes(StandardCharsets.UTF_8);
        Files.write(index, unsigned);
        Files.write(repo.resolve(RepositoryIndex.SIGNATURE_FILE), IndexSignature.sign(unsigned, AUTHOR).toBytes());
        RepositoryException e = assertThrows(RepositoryException.class, () -> verifyAll(null));
        assertTrue(e.getMessage().startsWith("index " + repo + "/index.xml has an entry that is not a signed Commonweal"
                + " artifact (org.example.api"), e.getMessage());
        assertTrue(e.getMessage().endsWith("Fix: re-publish that bundle with cw repo publish"), e.getMessage());
    }

    @Test
    void anUnsignedIndexIsRefused() throws Exception {
        publish(AUTHOR, api);
        Files.delete(repo.resolve(RepositoryIndex.SIGNATURE_FILE));
        RepositoryException e = assertThrows(RepositoryException.class, () -> verifyAll(null));
        assertTrue(e.getMessage().startsWith("index " + repo + "/index.xml is unsigned"), e.getMessage());
    }

    @Test
    void aKeyTheTrustPolicyDoesNotListIsRefused() throws Exception {
        publish(AUTHOR, api);
        RepositoryException e = assertThrows(RepositoryException.class, () -> verifyAll(trusting(OTHER, "*")));
        assertEquals("index " + repo + "/index.xml is refused: it is signed by key " + AUTHOR.publicKey() + ", which trust.json"
                + " does not list as a publisher. Fix: add that key to the trust policy if you trust it, or use a repository"
                + " signed by a listed key", e.getMessage());
    }

    @Test
    void aPublisherOutsideItsPatternsIsRefused() throws Exception {
        publish(AUTHOR, api);
        RepositoryException e = assertThrows(RepositoryException.class, () -> verifyAll(trusting(AUTHOR, "org.commonweal.*")));
        assertTrue(e.getMessage().startsWith("artifact org.example.api 1.0.0 (bundles/org.example.api/org.example.api-1.0.0.jar)"
                + " in " + repo + " is refused: its publisher author (" + AUTHOR.publicKey() + ") may publish only"
                + " [org.commonweal.*] under trust.json"), e.getMessage());
    }

    @Test
    void anOperatorSignsTheIndexSoThatAnyAuthorMayPublish() throws Exception {
        LocalRepository.at(repo).publish(List.of(new LocalRepository.Publication(api, null)), AUTHOR, OTHER);
        TrustPolicy policy = new TrustPolicy("trust.json",
                List.of(new TrustPolicy.Publisher("author", AUTHOR.publicKey(), List.of("org.example.*"))),
                Set.of(OTHER.publicKey()), Set.of(), Set.of());
        assertEquals(OTHER.publicKey(), verifyAll(policy).signature().key());
        // The author re-signing the index alone is not enough once the policy names the index signers.
        publish(AUTHOR, impl);
        RepositoryException e = assertThrows(RepositoryException.class, () -> verifyAll(policy));
        assertTrue(e.getMessage().contains("which is not one of the index signers trust.json accepts"), e.getMessage());
    }

    @Test
    void aRevokedKeyIsRefused() throws Exception {
        publish(AUTHOR, api);
        TrustPolicy revoking = new TrustPolicy("trust.json",
                List.of(new TrustPolicy.Publisher("author", AUTHOR.publicKey(), List.of("*")),
                        new TrustPolicy.Publisher("other", OTHER.publicKey(), List.of("*"))),
                Set.of(AUTHOR.publicKey()), Set.of());
        RepositoryException e = assertThrows(RepositoryException.class, () -> verifyAll(revoking));
        assertTrue(e.getMessage().startsWith("index " + repo + "/index.xml is refused: it is signed by key "
                + AUTHOR.publicKey() + ", which trust.json revokes"), e.getMessage());
        // Re-signed by a valid key, the index passes; the artifact the revoked key signed still does not.
        byte[] xml = Files.readAllBytes(repo.resolve(RepositoryIndex.INDEX_FILE));
        Files.write(repo.resolve(RepositoryIndex.SIGNATURE_FILE), IndexSignature.sign(xml, OTHER).toBytes());
        e = assertThrows(RepositoryException.class, () -> verifyAll(revoking));
        assertTrue(e.getMessage().contains("org.example.api 1.0.0") && e.getMessage().contains("its publisher key "
                + AUTHOR.publicKey() + " is revoked by trust.json"), e.getMessage());
    }

    @Test
    void aRevokedArtifactIsRefused() throws Exception {
        LocalRepository.Published published = publish(AUTHOR, api);
        TrustPolicy revoking = new TrustPolicy("trust.json",
                List.of(new TrustPolicy.Publisher("author", AUTHOR.publicKey(), List.of("*"))), Set.of(),
                Set.of(published.added().get(0).sha256()));
        RepositoryException e = assertThrows(RepositoryException.class, () -> verifyAll(revoking));
        assertTrue(e.getMessage().contains("its content (sha256 " + published.added().get(0).sha256()
                + ") is revoked by trust.json"), e.getMessage());
    }

    @Test
    void aSharedRevocationListRevokesAndAMissingOneIsAnError() throws Exception {
        publish(AUTHOR, api);
        Path file = temp.resolve("trust.json");
        Files.writeString(file, """
                { "publishers": [ { "name": "author", "key": "%s", "bundles": ["*"] } ],
                  "revoked": { "lists": ["file:lists/foundation.json"] } }
                """.formatted(AUTHOR.publicKey().hex()));
        RepositoryException missing = assertThrows(RepositoryException.class, () -> TrustPolicy.read(file));
        assertTrue(missing.getMessage().contains("names revocation list " + temp.resolve("lists/foundation.json")
                + ", which cannot be read"), missing.getMessage());
        Files.createDirectories(temp.resolve("lists"));
        Files.writeString(temp.resolve("lists/foundation.json"), "{ \"keys\": [\"" + AUTHOR.publicKey().hex() + "\"] }");
        RepositoryException e = assertThrows(RepositoryException.class, () -> verifyAll(TrustPolicy.read(file)));
        assertTrue(e.getMessage().contains("which " + file + " revokes"), e.getMessage());
    }

    @Test
    void trustFilesReadKeysInlineAndFromFiles() throws Exception {
        Files.writeString(temp.resolve("author.pub"), AUTHOR.publicKey().hex() + "\n");
        Path file = temp.resolve("trust.json");
        Files.writeString(file, """
                { "publishers": [ { "name": "author", "key": "file:author.pub", "bundles": ["org.example.*"] },
                                  { "key": "%s", "bundles": ["*"] } ],
                  "revoked": { "keys": [], "artifacts": [] } }
                """.formatted(OTHER.publicKey().hex()));
        TrustPolicy policy = TrustPolicy.read(file);
        assertEquals(List.of(AUTHOR.publicKey(), OTHER.publicKey()), policy.publishers().stream().map(TrustPolicy.Publisher::key).toList());
        publish(AUTHOR, api, impl);
        verifyAll(policy);
    }
}
