package org.commonweal.repo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.stream.Stream;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;

/**
 * The build's development repository (run by exec-maven-plugin in bundle-repo's {@code package} phase): makes a
 * development publisher key on first use ({@code KEYDIR/publisher.key}, PKCS#8 PEM, and {@code publisher.pub}, its hex
 * public key), then publishes, into a fresh {@code REPO}, every jar under {@code BUNDLES} (a folder in Maven
 * repository layout, whose paths give each bundle's Maven id) and each further {@code JAR} (Maven id from its
 * pom.properties). The key lives in target/ and is never committed.
 */
public final class DevRepository {

    private DevRepository() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: DevRepository KEYDIR REPO BUNDLES [JAR...]");
        }
        long start = System.nanoTime();
        PrivateKey key = developmentKey(Path.of(args[0]));
        Path repository = Path.of(args[1]);
        Path bundles = Path.of(args[2]);
        deleteRecursively(repository);
        java.util.List<LocalRepository.Publication> publications = new java.util.ArrayList<>(LocalRepository.mavenLayout(bundles));
        for (int i = 3; i < args.length; i++) {
            publications.add(new LocalRepository.Publication(Path.of(args[i]), null));
        }
        LocalRepository.Published published = LocalRepository.at(repository).publish(publications, key);
        System.out.printf("dev repository: %d bundles published to %s, signed by %s (%d ms)%n", published.added().size(),
                repository, key.publicKey(), (System.nanoTime() - start) / 1_000_000);
    }

    static PrivateKey developmentKey(Path directory) throws IOException {
        Path keyFile = directory.resolve("publisher.key");
        if (!Files.exists(keyFile)) {
            KeyFiles.write(keyFile, Ed25519.generate(new SecureRandom()), null);
        }
        PrivateKey key = KeyFiles.read(keyFile, null);
        Files.writeString(directory.resolve("publisher.pub"), key.publicKey().hex() + "\n", StandardCharsets.US_ASCII);
        return key;
    }

    static void deleteRecursively(Path directory) throws IOException {
        if (Files.exists(directory)) {
            try (Stream<Path> files = Files.walk(directory)) {
                for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(file);
                }
            }
        }
    }
}
