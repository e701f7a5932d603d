package org.commonweal.repo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code cw repo mirror SRC DEST}: a snapshot of a repository for a site without a network. Everything is verified
 * before it is written (the index against its signature, each jar against the index and its publisher's signature);
 * the index and its signature are copied byte for byte, so the mirror verifies exactly as the source does.
 */
public final class RepositoryMirror {

    private RepositoryMirror() {
    }

    /** Copies {@code source} into {@code destination} (which must not hold another repository); returns the count. */
    public static int mirror(RepositorySource source, Path destination, TrustPolicy policy)
            throws RepositoryException, IOException {
        RepositoryVerifier verifier = new RepositoryVerifier(policy);
        RepositoryVerifier.VerifiedIndex verified = verifier.verifyIndex(source);
        Path existing = destination.resolve(RepositoryIndex.INDEX_FILE);
        for (Artifact artifact : verified.index().artifacts()) {
            Path target = destination.resolve(artifact.path()).normalize();
            if (!target.startsWith(destination.normalize())) {
                throw new RepositoryException("artifact " + artifact.name() + " has path " + artifact.path() + ", outside"
                        + " the repository. Fix: re-publish it with cw repo publish");
            }
            byte[] jar = verifier.readVerified(verified, artifact);
            if (!Files.exists(target) || Files.size(target) != jar.length || !java.util.Arrays.equals(Files.readAllBytes(target), jar)) {
                LocalRepository.writeAtomically(target, jar);
            }
        }
        // An older snapshot is replaced by the newer index; its jars stay (a published version never changes).
        LocalRepository.writeAtomically(existing, verified.xml());
        LocalRepository.writeAtomically(destination.resolve(RepositoryIndex.SIGNATURE_FILE), verified.signature().toBytes());
        return verified.index().artifacts().size();
    }
}
