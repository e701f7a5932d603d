package org.commonweal.repo;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PublicKey;
import org.osgi.framework.Version;
import org.osgi.resource.Resource;

/**
 * One bundle in the repository, as its index entry describes it.
 *
 * @param symbolicName  Bundle-SymbolicName
 * @param version       Bundle-Version
 * @param mavenId       group:artifact:version, the id a feature file names it by
 * @param sha256        SHA-256 of the jar, lowercase hex
 * @param size          the jar's length in bytes
 * @param path          where the jar lies, relative to the index (bundles/...)
 * @param publisher     the key that signed it
 * @param signature     the publisher's Ed25519 signature over {@link #statement()}
 * @param resource      the full index entry: identity, content, capabilities and requirements
 */
public record Artifact(String symbolicName, Version version, String mavenId, String sha256, long size, String path,
        PublicKey publisher, byte[] signature, Resource resource) {

    /** What a publisher signs: a domain tag, then every field that names and pins the artifact. */
    static final String STATEMENT_TAG = "commonweal.artifact.v1";

    /** "org.commonweal.crypto 0.1.0.SNAPSHOT", as messages name an artifact. */
    public String name() {
        return symbolicName + " " + version;
    }

    public byte[] statement() {
        return statement(symbolicName, version, mavenId, sha256);
    }

    static byte[] statement(String symbolicName, Version version, String mavenId, String sha256) {
        return String.join("\n", STATEMENT_TAG, symbolicName, version.toString(), mavenId, sha256)
                .getBytes(StandardCharsets.UTF_8);
    }

    /** Whether {@link #signature()} is the publisher's signature over this artifact's statement. */
    public boolean signatureValid() {
        return signature.length == Ed25519.SIGNATURE_LENGTH && Ed25519.verify(publisher, statement(), signature);
    }

    public String signatureHex() {
        return HexFormat.of().formatHex(signature);
    }

    @Override
    public String toString() {
        return name();
    }
}
