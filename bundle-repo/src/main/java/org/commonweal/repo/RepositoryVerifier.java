package org.commonweal.repo;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.HexFormat;
import java.util.Optional;

import org.commonweal.crypto.Sha256;

/**
 * Checks a repository before anything of it is used: the index against its detached signature, then each artifact
 * against its publisher's signature, the trust policy (when there is one) and, once read, its size and SHA-256.
 * Every refusal names the artifact (or the index), the reason and the fix.
 */
public final class RepositoryVerifier {

    /** An index whose signature holds (and whose signer the policy accepts, when there is a policy). */
    public record VerifiedIndex(RepositorySource source, RepositoryIndex index, byte[] xml, IndexSignature signature) {
    }

    private final TrustPolicy policy;

    /** {@code policy} may be null: then signatures and hashes are checked, but not who signed. */
    public RepositoryVerifier(TrustPolicy policy) {
        this.policy = policy;
    }

    public VerifiedIndex verifyIndex(RepositorySource source) throws RepositoryException, IOException {
        String where = source.describe() + "/" + RepositoryIndex.INDEX_FILE;
        byte[] xml;
        try {
            xml = source.read(RepositoryIndex.INDEX_FILE);
        } catch (NoSuchFileException e) {
            throw new RepositoryException("repository " + source.describe() + " has no " + RepositoryIndex.INDEX_FILE
                    + ". Fix: name a repository folder or URL (publish to one with cw repo publish)", e);
        }
        byte[] signatureBytes;
        try {
            signatureBytes = source.read(RepositoryIndex.SIGNATURE_FILE);
        } catch (NoSuchFileException e) {
            throw new RepositoryException("index " + where + " is unsigned: there is no " + RepositoryIndex.SIGNATURE_FILE
                    + " beside it. Fix: publish to the repository with cw repo publish --key, which signs the index", e);
        }
        IndexSignature signature = IndexSignature.parse(signatureBytes, source.describe() + "/" + RepositoryIndex.SIGNATURE_FILE);
        if (!signature.verifies(xml)) {
            throw new RepositoryException("index " + where + " does not match its signature by key " + signature.key()
                    + ": it was changed after it was signed. Fix: fetch the repository again from its publisher, or"
                    + " re-publish to it with cw repo publish");
        }
        if (policy != null) {
            Optional<String> refusal = policy.refuseIndexSigner(signature.key());
            if (refusal.isPresent()) {
                throw new RepositoryException("index " + where + " is refused: " + refusal.get());
            }
        }
        return new VerifiedIndex(source, RepositoryIndex.parse(xml, where), xml, signature);
    }

    /** Checks what can be checked without the jar: the publisher's signature and the trust policy. */
    public void verifyEntry(Artifact artifact, String where) throws RepositoryException {
        if (!artifact.signatureValid()) {
            throw new RepositoryException("artifact " + artifact.name() + " (" + artifact.path() + ") in " + where
                    + " is refused: its signature does not match its entry by key " + artifact.publisher() + " (the entry"
                    + " was changed after it was signed). Fix: re-publish the bundle with cw repo publish");
        }
        if (policy != null) {
            Optional<String> refusal = policy.refuse(artifact);
            if (refusal.isPresent()) {
                throw new RepositoryException("artifact " + artifact.name() + " (" + artifact.path() + ") in " + where
                        + " is refused: " + refusal.get());
            }
        }
    }

    /** Reads an artifact's jar and checks everything: signature, trust, size and SHA-256. Returns the bytes. */
    public byte[] readVerified(VerifiedIndex verified, Artifact artifact) throws RepositoryException, IOException {
        String where = verified.source().describe();
        verifyEntry(artifact, where);
        byte[] jar;
        try {
            jar = verified.source().read(artifact.path());
        } catch (NoSuchFileException e) {
            throw new RepositoryException("artifact " + artifact.name() + " is missing: the index names " + artifact.path()
                    + " but " + where + " has no such file. Fix: fetch the repository again, or re-publish the bundle", e);
        }
        String sha256 = HexFormat.of().formatHex(Sha256.hash(jar));
        if (jar.length != artifact.size() || !sha256.equals(artifact.sha256())) {
            throw new RepositoryException("artifact " + artifact.name() + " (" + where + "/" + artifact.path()
                    + ") is refused: its content does not match the signed index (sha256 " + sha256 + ", " + jar.length
                    + " bytes; the index says " + artifact.sha256() + ", " + artifact.size() + " bytes). Fix: fetch it"
                    + " again from the publisher; if it was changed on purpose, re-publish it under a new version");
        }
        return jar;
    }
}
