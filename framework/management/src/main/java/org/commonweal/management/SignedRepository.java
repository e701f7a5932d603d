package org.commonweal.management;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.Sha256;
import org.osgi.framework.Version;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * One of the node's bundle repositories (a folder or an HTTP URL serving one, as {@code cw repo} writes them), read
 * and checked as {@code cw assemble} checks it: the index against its signature and the trust roots, each entry
 * against its publisher's signature and the trust roots, a fetched jar against the signed size and SHA-256. Nothing
 * unverified is returned.
 */
final class SignedRepository {

    static final String INDEX_FILE = "index.xml";
    static final String SIGNATURE_FILE = "index.xml.sig";
    /** What a publisher signs (org.commonweal.repo's Artifact.statement: keep the two in step). */
    static final String STATEMENT_TAG = "commonweal.artifact.v1";
    private static final String ARTIFACT_NAMESPACE = "commonweal.artifact";

    /** A verified index entry. */
    record Entry(String symbolicName, Version version, String mavenId, String sha256, long size, String path,
            PublicKey publisher, SignedRepository repository) {

        String name() {
            return symbolicName + " " + version;
        }
    }

    private final String location;
    private final TrustRoots trust;

    SignedRepository(String location, TrustRoots trust) {
        this.location = location.endsWith("/") ? location.substring(0, location.length() - 1) : location;
        this.trust = trust;
    }

    String location() {
        return location;
    }

    /** Every entry of the index, after the index signature and every entry's signature and trust are checked. */
    List<Entry> entries() throws UpgradeException {
        byte[] index = read(INDEX_FILE);
        String signatureLine = new String(read(SIGNATURE_FILE), StandardCharsets.US_ASCII).strip();
        String[] parts = signatureLine.split(" ");
        if (parts.length != 3 || !parts[0].equals("ed25519")) {
            throw new UpgradeException("repository " + location + ": " + SIGNATURE_FILE + " is not 'ed25519 <key> <signature>'."
                    + " Fix: re-publish to the repository with cw repo publish");
        }
        PublicKey signer;
        byte[] signature;
        try {
            signer = PublicKey.fromHex(parts[1]);
            signature = HexFormat.of().parseHex(parts[2]);
        } catch (IllegalArgumentException e) {
            throw new UpgradeException("repository " + location + ": " + SIGNATURE_FILE + " is malformed (" + e.getMessage()
                    + "). Fix: re-publish to the repository with cw repo publish");
        }
        if (signature.length != Ed25519.SIGNATURE_LENGTH || !Ed25519.verify(signer, index, signature)) {
            throw new UpgradeException("repository " + location + ": its index does not match its signature (it was changed"
                    + " after signing). Fix: fetch the repository again from its publisher; nothing from it is installed");
        }
        Optional<String> refused = trust.refuseIndexSigner(signer);
        if (refused.isPresent()) {
            throw new UpgradeException("repository " + location + " is refused: " + refused.get() + ". Fix: use a repository"
                    + " signed by a key of the distribution's trust roots, or add that key to them and restart the node");
        }
        List<Entry> entries = new ArrayList<>();
        for (Entry entry : parse(index)) {
            if (trust.refuseArtifact(entry.symbolicName(), entry.publisher(), entry.sha256()).isEmpty()) {
                entries.add(entry);
            }
        }
        return entries;
    }

    /**
     * The entry for {@code symbolicName} (at {@code version}, else the highest), with the reason when the only
     * candidates are refused.
     */
    Optional<Entry> find(String symbolicName, Version version) throws UpgradeException {
        byte[] index = read(INDEX_FILE);
        Entry best = null;
        for (Entry entry : entries()) {
            if (entry.symbolicName().equals(symbolicName) && (version == null ? best == null
                    || entry.version().compareTo(best.version()) > 0 : entry.version().equals(version))) {
                best = entry;
            }
        }
        if (best == null) {
            // Say why, if the repository has the bundle but the trust roots refuse it.
            for (Entry entry : parse(index)) {
                if (entry.symbolicName().equals(symbolicName) && (version == null || entry.version().equals(version))) {
                    String why = trust.refuseArtifact(entry.symbolicName(), entry.publisher(), entry.sha256()).orElse("?");
                    throw new UpgradeException("bundle " + entry.name() + " in repository " + location + " is refused: "
                            + why + ". Fix: use a version published by a trusted key, or add its publisher to the"
                            + " distribution's trust roots");
                }
            }
        }
        return Optional.ofNullable(best);
    }

    /** The entry's jar, checked against the signed size and SHA-256 and its own manifest. */
    byte[] fetch(Entry entry) throws UpgradeException {
        byte[] jar = read(entry.path());
        String sha256 = HexFormat.of().formatHex(Sha256.hash(jar));
        if (jar.length != entry.size() || !sha256.equals(entry.sha256())) {
            throw new UpgradeException("bundle " + entry.name() + " (" + location + "/" + entry.path() + ") is refused: its"
                    + " content does not match the signed index (sha256 " + sha256 + ", " + jar.length + " bytes; the index"
                    + " says " + entry.sha256() + ", " + entry.size() + " bytes). Fix: fetch it again from the publisher;"
                    + " if it was changed on purpose, re-publish it under a new version");
        }
        Manifest manifest;
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(jar))) {
            manifest = in.getManifest();
        } catch (IOException e) {
            throw new UpgradeException("bundle " + entry.name() + " is not a readable jar: " + e.getMessage());
        }
        String bsn = manifest == null ? null : manifest.getMainAttributes().getValue("Bundle-SymbolicName");
        String version = manifest == null ? null : manifest.getMainAttributes().getValue("Bundle-Version");
        if (bsn == null || !bsn.split(";")[0].strip().equals(entry.symbolicName()) || version == null
                || !Version.parseVersion(version).equals(entry.version())) {
            throw new UpgradeException("bundle " + entry.name() + " is refused: its manifest says " + bsn + " " + version
                    + ". Fix: re-publish the bundle");
        }
        return jar;
    }

    static byte[] statement(String symbolicName, Version version, String mavenId, String sha256) {
        return String.join("\n", STATEMENT_TAG, symbolicName, version.toString(), mavenId, sha256)
                .getBytes(StandardCharsets.UTF_8);
    }

    /** An XML document from outside (an index, a bundle's component descriptions): no DOCTYPE, no entities, no XInclude. */
    static Document xml(byte[] bytes) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        factory.setExpandEntityReferences(false);
        factory.setXIncludeAware(false);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(bytes));
    }

    private List<Entry> parse(byte[] index) throws UpgradeException {
        Document document;
        try {
            document = xml(index);
        } catch (Exception e) {
            throw new UpgradeException("repository " + location + ": its index cannot be read (" + e.getMessage() + ")."
                    + " Fix: fetch the repository again, or re-publish to it");
        }
        List<Entry> entries = new ArrayList<>();
        NodeList resources = document.getElementsByTagName("resource");
        for (int i = 0; i < resources.getLength(); i++) {
            Element resource = (Element) resources.item(i);
            String bsn = null;
            String version = null;
            String sha256 = null;
            String url = null;
            long size = -1;
            String mavenId = null;
            String publisher = null;
            String signature = null;
            NodeList capabilities = resource.getElementsByTagName("capability");
            for (int c = 0; c < capabilities.getLength(); c++) {
                Element capability = (Element) capabilities.item(c);
                String namespace = capability.getAttribute("namespace");
                switch (namespace) {
                    case "osgi.identity" -> {
                        bsn = attribute(capability, "osgi.identity");
                        version = attribute(capability, "version");
                    }
                    case "osgi.content" -> {
                        sha256 = attribute(capability, "osgi.content");
                        url = attribute(capability, "url");
                        String sizeText = attribute(capability, "size");
                        size = sizeText == null ? -1 : Long.parseLong(sizeText);
                    }
                    case ARTIFACT_NAMESPACE -> {
                        mavenId = attribute(capability, ARTIFACT_NAMESPACE);
                        publisher = attribute(capability, "publisher");
                        signature = attribute(capability, "signature");
                    }
                    default -> {
                    }
                }
            }
            if (bsn == null || version == null || sha256 == null || url == null || mavenId == null || publisher == null
                    || signature == null) {
                throw new UpgradeException("repository " + location + ": index entry " + bsn + " " + version + " is not a"
                        + " signed Commonweal artifact. Fix: re-publish it with cw repo publish");
            }
            if (url.startsWith("/") || url.contains(":") || url.contains("..")) {
                throw new UpgradeException("repository " + location + ": index entry " + bsn + " " + version + " points"
                        + " outside the repository (" + url + "). Fix: re-publish it with cw repo publish");
            }
            Version parsed = Version.parseVersion(version);
            PublicKey key = PublicKey.fromHex(publisher);
            byte[] signatureBytes = HexFormat.of().parseHex(signature);
            if (signatureBytes.length != Ed25519.SIGNATURE_LENGTH
                    || !Ed25519.verify(key, statement(bsn, parsed, mavenId, sha256.toLowerCase()), signatureBytes)) {
                throw new UpgradeException("bundle " + bsn + " " + version + " in repository " + location + " is refused:"
                        + " its publisher signature does not match its entry (the entry was altered or signed by another"
                        + " key). Fix: fetch the repository again; re-publish the bundle if you own it");
            }
            entries.add(new Entry(bsn, parsed, mavenId, sha256.toLowerCase(), size, url, key, this));
        }
        return entries;
    }

    private static String attribute(Element capability, String name) {
        NodeList attributes = capability.getElementsByTagName("attribute");
        for (int i = 0; i < attributes.getLength(); i++) {
            Element attribute = (Element) attributes.item(i);
            if (attribute.getAttribute("name").equals(name)) {
                return attribute.getAttribute("value");
            }
        }
        return null;
    }

    private byte[] read(String relative) throws UpgradeException {
        try {
            if (location.startsWith("http://") || location.startsWith("https://")) {
                try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
                    HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(URI.create(location + "/" + relative))
                            .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
                    if (response.statusCode() != 200) {
                        throw new IOException("HTTP " + response.statusCode());
                    }
                    return response.body();
                }
            }
            Path base = Path.of(location.startsWith("file:") ? URI.create(location).getPath() : location);
            return Files.readAllBytes(base.resolve(relative));
        } catch (IOException e) {
            throw new UpgradeException("repository " + location + ": " + relative + " cannot be read (" + e + "). Fix: check"
                    + " the repository (cw repo verify --repo " + location + ") and the node's repositories setting");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UpgradeException("interrupted while reading " + location + "/" + relative);
        }
    }
}
