package org.commonweal.management;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import org.commonweal.crypto.PublicKey;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The node's trust roots: the distribution's trust policy as the launcher hands it to the node (org.commonweal.repo's
 * {@code TrustPolicy.toJson()}: every key in hex, revocation lists already merged), read and applied here with the
 * same rules. org.commonweal.repo itself is not used inside the node because it needs bndlib (several MB) only to
 * read and write index documents; a node needs to check a signed index and a jar's SHA-256, which this class and
 * {@link SignedRepository} do with the crypto bundle and the JDK.
 */
final class TrustRoots {

    record Publisher(String name, PublicKey key, List<String> bundles) {

        boolean mayPublish(String symbolicName) {
            return bundles.stream().anyMatch(pattern -> glob(pattern).matcher(symbolicName).matches());
        }
    }

    private final String source;
    private final List<Publisher> publishers;
    private final Set<PublicKey> indexSigners;
    private final Set<PublicKey> revokedKeys;
    private final Set<String> revokedArtifacts;

    TrustRoots(String source, List<Publisher> publishers, Set<PublicKey> indexSigners, Set<PublicKey> revokedKeys,
            Set<String> revokedArtifacts) {
        this.source = source;
        this.publishers = List.copyOf(publishers);
        this.indexSigners = Set.copyOf(indexSigners);
        this.revokedKeys = Set.copyOf(revokedKeys);
        this.revokedArtifacts = Set.copyOf(revokedArtifacts);
    }

    String source() {
        return source;
    }

    static TrustRoots read(Path file) throws UpgradeException {
        try {
            return of(new ObjectMapper().readTree(Files.readAllBytes(file)), file.toString());
        } catch (IOException | RuntimeException e) {
            throw new UpgradeException("trust file " + file + " cannot be read (" + e.getMessage() + "). Fix: restart the"
                    + " node with cw node, which writes it from the distribution's trust roots");
        }
    }

    static TrustRoots of(JsonNode json, String source) {
        List<Publisher> publishers = new ArrayList<>();
        for (JsonNode entry : json.path("publishers")) {
            List<String> bundles = new ArrayList<>();
            entry.path("bundles").forEach(b -> bundles.add(b.asText()));
            publishers.add(new Publisher(entry.path("name").asText(), PublicKey.fromHex(entry.path("key").asText()), bundles));
        }
        Set<PublicKey> signers = new LinkedHashSet<>();
        json.path("index-signers").forEach(k -> signers.add(PublicKey.fromHex(k.asText())));
        Set<PublicKey> keys = new LinkedHashSet<>();
        json.path("revoked").path("keys").forEach(k -> keys.add(PublicKey.fromHex(k.asText())));
        Set<String> artifacts = new LinkedHashSet<>();
        json.path("revoked").path("artifacts").forEach(a -> artifacts.add(a.asText().toLowerCase()));
        return new TrustRoots(source, publishers, signers, keys, artifacts);
    }

    /** Why the index signer is refused, or empty. */
    Optional<String> refuseIndexSigner(PublicKey key) {
        if (revokedKeys.contains(key)) {
            return Optional.of("it is signed by key " + key + ", which " + source + " revokes");
        }
        if (!indexSigners.isEmpty() ? !indexSigners.contains(key) : publishers.stream().noneMatch(p -> p.key().equals(key))) {
            return Optional.of("it is signed by key " + key + ", which the node's trust roots (" + source + ") do not accept"
                    + " as an index signer");
        }
        return Optional.empty();
    }

    /** Why an artifact published by {@code publisher} is refused, or empty. The signature is checked elsewhere. */
    Optional<String> refuseArtifact(String symbolicName, PublicKey publisher, String sha256) {
        if (revokedKeys.contains(publisher)) {
            return Optional.of("its publisher key " + publisher + " is revoked by " + source);
        }
        if (revokedArtifacts.contains(sha256)) {
            return Optional.of("its content (sha256 " + sha256 + ") is revoked by " + source);
        }
        List<Publisher> listed = publishers.stream().filter(p -> p.key().equals(publisher)).toList();
        if (listed.isEmpty()) {
            return Optional.of("its publisher key " + publisher + " is not among the node's trust roots (" + source + ")");
        }
        if (listed.stream().noneMatch(p -> p.mayPublish(symbolicName))) {
            return Optional.of("its publisher " + listed.get(0).name() + " may publish only "
                    + listed.stream().flatMap(p -> p.bundles().stream()).toList() + ", not " + symbolicName);
        }
        return Optional.empty();
    }

    /** The name the trust roots give a publisher key, else its hex. */
    String nameOf(PublicKey key) {
        return publishers.stream().filter(p -> p.key().equals(key)).map(Publisher::name).findFirst().orElse(key.hex());
    }

    private static Pattern glob(String pattern) {
        StringBuilder regex = new StringBuilder();
        for (String part : pattern.split("\\*", -1)) {
            if (!regex.isEmpty()) {
                regex.append(".*");
            }
            regex.append(Pattern.quote(part));
        }
        return Pattern.compile(regex.toString());
    }
}
