package org.commonweal.launcher;

import java.io.Console;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.repo.Artifact;
import org.commonweal.repo.LocalRepository;
import org.commonweal.repo.RepositoryException;
import org.commonweal.repo.RepositoryMirror;
import org.commonweal.repo.RepositoryServer;
import org.commonweal.repo.RepositorySource;
import org.commonweal.repo.RepositoryVerifier;
import org.commonweal.repo.TrustPolicy;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sun.misc.Signal;

/** {@code cw repo}: the shared bundle repository (publish, verify, list, serve, mirror, keygen). */
@Command(name = "repo", mixinStandardHelpOptions = true,
        description = { "The signed bundle repository: an OSGi R5 index (index.xml), its Ed25519 signature (index.xml.sig)"
                + " and the bundles, each signed by its publisher.",
                "Default repository: the build's, bundle-repo/target/repository (every bundle of the dev distribution,"
                        + " signed by the build's development key)." },
        subcommands = { RepoCommand.Publish.class, RepoCommand.Verify.class, RepoCommand.ListArtifacts.class,
                RepoCommand.Serve.class, RepoCommand.Mirror.class, RepoCommand.Keygen.class })
final class RepoCommand {

    /** Where a passphrase for an encrypted key file comes from when there is no console. */
    static final String PASSPHRASE_VARIABLE = "CW_KEY_PASSPHRASE";

    static Path defaultRepository() {
        return Cw.home().resolve("bundle-repo").resolve("target").resolve("repository");
    }

    static String repository(String option) {
        return option != null ? option : defaultRepository().toString();
    }

    static TrustPolicy trust(Path file) throws RepositoryException {
        return file == null ? null : TrustPolicy.read(file);
    }

    static PrivateKey readKey(Path file) throws LaunchException {
        if (!Files.isRegularFile(file)) {
            throw new LaunchException("key file " + file + " does not exist. Fix: make one with cw repo keygen " + file);
        }
        try {
            try {
                return KeyFiles.read(file, null);
            } catch (IOException e) {
                if (!String.valueOf(e.getMessage()).contains("encrypted")) {
                    throw e;
                }
                return KeyFiles.read(file, passphrase(file));
            }
        } catch (IOException e) {
            throw new LaunchException("key file " + file + ": " + e.getMessage(), e);
        }
    }

    private static char[] passphrase(Path file) throws LaunchException {
        String fromEnvironment = System.getenv(PASSPHRASE_VARIABLE);
        if (fromEnvironment != null) {
            return fromEnvironment.toCharArray();
        }
        Console console = System.console();
        if (console == null) {
            throw new LaunchException("key file " + file + " is encrypted and there is no console to ask for its passphrase."
                    + " Fix: set " + PASSPHRASE_VARIABLE);
        }
        return console.readPassword("Passphrase for %s: ", file);
    }

    @Command(name = "publish", mixinStandardHelpOptions = true, sortOptions = false, description = {
            "Check that each JAR is a bundle, add it to the repository's index (identity, SHA-256, size, URL, every"
                    + " capability and requirement), sign it and the index with KEYFILE.",
            "A published version never changes: the same bytes again are a no-op, other bytes are refused." })
    static final class Publish implements Callable<Integer> {

        @Parameters(paramLabel = "JAR", arity = "1..*", description = "Bundles to publish.")
        List<Path> jars;

        @Option(names = "--key", paramLabel = "KEYFILE", required = true,
                description = "The publisher's Ed25519 key (PKCS#8 PEM; if encrypted, the passphrase comes from the console"
                        + " or $" + PASSPHRASE_VARIABLE + ").")
        Path key;

        @Option(names = "--index-key", paramLabel = "KEYFILE", description = "Sign the index with this key (a shared"
                + " repository's operator's) instead of --key; trust files name it in \"index-signers\".")
        Path indexKey;

        @Option(names = "--repo", paramLabel = "DIR", description = "The repository folder (created if need be).")
        Path repo;

        @Override
        public Integer call() throws Exception {
            long start = System.nanoTime();
            List<LocalRepository.Publication> publications = new ArrayList<>();
            for (Path jar : jars) {
                if (!Files.isRegularFile(jar)) {
                    throw new LaunchException("bundle " + jar + " does not exist. Fix: build it first, or give its path");
                }
                publications.add(new LocalRepository.Publication(jar, null));
            }
            PrivateKey privateKey = readKey(key);
            Path directory = repo != null ? repo : defaultRepository();
            LocalRepository.Published published = LocalRepository.at(directory).publish(publications, privateKey,
                    indexKey == null ? privateKey : readKey(indexKey));
            for (Artifact artifact : published.added()) {
                System.out.println("published " + artifact.name() + " (" + artifact.mavenId() + ", sha256 " + artifact.sha256()
                        + ")");
            }
            for (Artifact artifact : published.unchanged()) {
                System.out.println("unchanged " + artifact.name() + " (already published with the same content)");
            }
            System.out.printf("%s: index signed by %s (%d ms)%n", directory, published.signature().key(),
                    (System.nanoTime() - start) / 1_000_000);
            return 0;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false, description = {
            "Check the index against its signature, then every artifact against its publisher's signature, its size and"
                    + " its SHA-256; with --trust, also that the trust file accepts every key." })
    static final class Verify implements Callable<Integer> {

        @Option(names = "--repo", paramLabel = "DIR|URL", description = "The repository (default: the build's).")
        String repo;

        @Option(names = "--trust", paramLabel = "FILE", description = "A trust file (JSON: publishers, their bundle"
                + " patterns, revocations; see the README).")
        Path trust;

        @Override
        public Integer call() throws Exception {
            long start = System.nanoTime();
            RepositorySource source = RepositorySource.of(repository(repo));
            RepositoryVerifier verifier = new RepositoryVerifier(trust(trust));
            RepositoryVerifier.VerifiedIndex verified = verifier.verifyIndex(source);
            long bytes = 0;
            List<String> refused = new ArrayList<>();
            for (Artifact artifact : verified.index().artifacts()) {
                try {
                    bytes += verifier.readVerified(verified, artifact).length;
                } catch (RepositoryException e) {
                    // Every refused artifact, not only the first: an integrator fixes them in one go.
                    refused.add(e.getMessage());
                }
            }
            if (!refused.isEmpty()) {
                refused.subList(0, refused.size() - 1).forEach(message -> System.err.println("error: " + message));
                throw new RepositoryException(refused.getLast() + " (" + refused.size() + " of "
                        + verified.index().artifacts().size() + " artifacts refused)");
            }
            System.out.printf("%s: %d artifacts (%.1f MB) verified: index signed by %s, every signature and SHA-256 holds;"
                    + " %s (%d ms)%n", source.describe(), verified.index().artifacts().size(), bytes / 1e6,
                    verified.signature().key(), trust == null ? "publishers not checked (no --trust)" : "every publisher"
                            + " accepted by " + trust, (System.nanoTime() - start) / 1_000_000);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the repository's bundles (the index"
            + " is verified against its signature first).")
    static final class ListArtifacts implements Callable<Integer> {

        @Option(names = "--repo", paramLabel = "DIR|URL", description = "The repository (default: the build's).")
        String repo;

        @Override
        public Integer call() throws Exception {
            RepositoryVerifier.VerifiedIndex verified = new RepositoryVerifier(null)
                    .verifyIndex(RepositorySource.of(repository(repo)));
            int width = verified.index().artifacts().stream().mapToInt(a -> a.name().length()).max().orElse(0);
            for (Artifact artifact : verified.index().artifacts()) {
                System.out.printf("%-" + width + "s  %-60s  %9d  %s%n", artifact.name(), artifact.mavenId(), artifact.size(),
                        artifact.publisher().hex().substring(0, 16));
            }
            System.out.println(verified.index().artifacts().size() + " bundles; index signed by " + verified.signature().key());
            return 0;
        }
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false, description = {
            "Serve the repository read-only over HTTP (GET/HEAD; ETag, If-None-Match, Range) until Ctrl-C.",
            "Clients verify what they fetch: the server is only a transport." })
    static final class Serve implements Callable<Integer> {

        @Option(names = "--repo", paramLabel = "DIR", description = "The repository folder (default: the build's).")
        Path repo;

        @Option(names = "--port", paramLabel = "N", defaultValue = "8081", description = "Default: ${DEFAULT-VALUE}.")
        int port;

        @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
                description = "The address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for every interface).")
        String host;

        @Override
        public Integer call() throws Exception {
            Path directory = repo != null ? repo : defaultRepository();
            // Refuse to serve something that is not a valid repository: a typo would otherwise serve 404s.
            new RepositoryVerifier(null).verifyIndex(new RepositorySource.Folder(directory));
            RepositoryServer server;
            try {
                server = RepositoryServer.start(directory, host, port);
            } catch (java.net.BindException e) {
                throw new LaunchException("port " + port + " on " + host + " is in use. Fix: --port with a free port", e);
            }
            CountDownLatch stop = new CountDownLatch(1);
            Signal.handle(new Signal("INT"), signal -> stop.countDown());
            Signal.handle(new Signal("TERM"), signal -> stop.countDown());
            System.out.println("Serving " + directory + " at " + server.uri() + " (Ctrl-C stops)");
            stop.await();
            server.close();
            return 0;
        }
    }

    @Command(name = "mirror", mixinStandardHelpOptions = true, sortOptions = false, description = {
            "Copy a repository (folder or URL) into DEST for a site without a network, verifying everything first.",
            "The index and its signature are copied byte for byte, so the mirror verifies as the source does." })
    static final class Mirror implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "SRC", description = "The repository: a folder or an http(s) URL.")
        String source;

        @Parameters(index = "1", paramLabel = "DEST", description = "The folder to write the snapshot to.")
        Path destination;

        @Option(names = "--trust", paramLabel = "FILE", description = "Only mirror what this trust file accepts.")
        Path trust;

        @Override
        public Integer call() throws Exception {
            long start = System.nanoTime();
            int count = RepositoryMirror.mirror(RepositorySource.of(source), destination, trust(trust));
            System.out.printf("mirrored %d bundles from %s to %s (%d ms)%n", count, source, destination,
                    (System.nanoTime() - start) / 1_000_000);
            return 0;
        }
    }

    @Command(name = "keygen", mixinStandardHelpOptions = true, description = {
            "Make a publisher key: KEYFILE (PKCS#8 PEM, mode 0600, never overwritten) and KEYFILE.pub (its hex public"
                    + " key, for trust files). Prints the public key." })
    static final class Keygen implements Callable<Integer> {

        @Parameters(paramLabel = "KEYFILE")
        Path file;

        @Option(names = "--encrypt", description = "Encrypt the key with a passphrase (console or $" + PASSPHRASE_VARIABLE
                + ").")
        boolean encrypt;

        @Override
        public Integer call() throws Exception {
            PrivateKey key = Ed25519.generate(new SecureRandom());
            try {
                KeyFiles.write(file, key, encrypt ? passphrase(file) : null);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw new LaunchException("key file " + file + " exists; a key file is never overwritten. Fix: choose"
                        + " another name, or move the old one away first", e);
            } catch (NoSuchFileException e) {
                throw new LaunchException("cannot write key file " + file + ": " + e.getMessage(), e);
            }
            Files.writeString(Path.of(file + ".pub"), key.publicKey().hex() + "\n");
            System.out.println(key.publicKey().hex());
            return 0;
        }
    }
}
