package org.commonweal.repo;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.StandardOpenOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.Sha256;

/**
 * A repository in a folder: {@code index.xml}, {@code index.xml.sig} and {@code bundles/<bsn>/<bsn>-<version>.jar}.
 * Publishing checks what is already there (the index against its signature, every jar against the index), adds the
 * new bundles, and rewrites and re-signs the index. A published version never changes: the same bytes again are a
 * no-op, other bytes under the same symbolic name and version are refused.
 */
public final class LocalRepository {

    /** A jar to publish, and the Maven id a feature names it by (null: from its pom.properties). */
    public record Publication(Path jar, String mavenId) {
    }

    /** What publishing did: each bundle added, and each that was already there with the same bytes. */
    public record Published(List<Artifact> added, List<Artifact> unchanged, IndexSignature signature) {
    }

    /** Held while publishing; hidden, so the server does not serve it. */
    static final String LOCK_FILE = ".publish.lock";

    private final Path directory;

    private LocalRepository(Path directory) {
        this.directory = directory;
    }

    public static LocalRepository at(Path directory) {
        return new LocalRepository(directory);
    }

    /** Every jar under a Maven-layout folder, with the Maven id its path gives (group/path/artifact/version/file). */
    public static List<Publication> mavenLayout(Path root) throws IOException {
        List<Publication> publications = new ArrayList<>();
        try (java.util.stream.Stream<Path> files = Files.walk(root)) {
            for (Path jar : files.filter(f -> f.toString().endsWith(".jar")).sorted().toList()) {
                Path relative = root.relativize(jar);
                int n = relative.getNameCount();
                String group = relative.subpath(0, n - 3).toString().replace(relative.getFileSystem().getSeparator(), ".");
                publications.add(new Publication(jar, group + ":" + relative.getName(n - 3) + ":" + relative.getName(n - 2)));
            }
        }
        return publications;
    }

    public Path directory() {
        return directory;
    }

    public Published publish(List<Publication> publications, PrivateKey key) throws RepositoryException, IOException {
        return publish(publications, key, key);
    }

    /**
     * Publishes {@code publications} signed by {@code key} (the author's) and re-signs the index with {@code indexKey}
     * (the repository operator's, or the author's own).
     */
    public Published publish(List<Publication> publications, PrivateKey key, PrivateKey indexKey)
            throws RepositoryException, IOException {
        Files.createDirectories(directory);
        // One publisher at a time per repository folder (processes on this machine, or sharing a file system that
        // supports locks): publishing reads, changes and re-signs the whole index.
        try (FileChannel channel = FileChannel.open(directory.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = channel.lock()) {
            return publishLocked(publications, key, indexKey);
        }
    }

    private Published publishLocked(List<Publication> publications, PrivateKey key, PrivateKey indexKey)
            throws RepositoryException, IOException {
        RepositoryIndex index = RepositoryIndex.empty();
        RepositorySource source = new RepositorySource.Folder(directory);
        if (Files.exists(directory.resolve(RepositoryIndex.INDEX_FILE))) {
            // Re-signing vouches for the whole index: never over an index or a jar that was changed since.
            RepositoryVerifier verifier = new RepositoryVerifier(null);
            RepositoryVerifier.VerifiedIndex verified = verifier.verifyIndex(source);
            for (Artifact artifact : verified.index().artifacts()) {
                verifier.readVerified(verified, artifact);
            }
            index = verified.index();
        }
        List<Artifact> added = new ArrayList<>();
        List<Artifact> unchanged = new ArrayList<>();
        for (Publication publication : publications) {
            String where = publication.jar().toString();
            byte[] jar = Files.readAllBytes(publication.jar());
            RepositoryIndex.BundleJar bundle = RepositoryIndex.readBundle(jar, where, publication.mavenId());
            String sha256 = HexFormat.of().formatHex(Sha256.hash(jar));
            Optional<Artifact> existing = index.find(bundle.symbolicName(), bundle.version());
            if (existing.isPresent()) {
                if (existing.get().sha256().equals(sha256)) {
                    unchanged.add(existing.get());
                    continue;
                }
                throw new RepositoryException("bundle " + bundle.symbolicName() + " " + bundle.version() + " (" + where
                        + ") is already in " + directory + " with other content (sha256 " + existing.get().sha256()
                        + "): a published version never changes. Fix: give the bundle a new Bundle-Version");
            }
            String path = RepositoryIndex.BUNDLES_DIR + "/" + bundle.symbolicName() + "/" + bundle.symbolicName() + "-"
                    + bundle.version() + ".jar";
            Artifact artifact = RepositoryIndex.describe(bundle, sha256, jar.length, path, key, where);
            writeAtomically(directory.resolve(path), jar);
            index = index.with(artifact);
            added.add(artifact);
        }
        IndexSignature signature;
        byte[] xml = index.toXml();
        Path indexFile = directory.resolve(RepositoryIndex.INDEX_FILE);
        if (added.isEmpty() && Files.exists(indexFile)) {
            signature = IndexSignature.parse(Files.readAllBytes(directory.resolve(RepositoryIndex.SIGNATURE_FILE)), "");
        } else {
            signature = IndexSignature.sign(xml, indexKey);
            // Index first, then its signature: a crash in between leaves an index that fails verification, never
            // one that verifies with content nobody signed.
            writeAtomically(indexFile, xml);
            writeAtomically(directory.resolve(RepositoryIndex.SIGNATURE_FILE), signature.toBytes());
        }
        return new Published(added, unchanged, signature);
    }

    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path temp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
        try {
            Files.write(temp, bytes);
            try {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
