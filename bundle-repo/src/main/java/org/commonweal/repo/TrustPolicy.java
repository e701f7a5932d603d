package org.commonweal.repo;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import org.commonweal.crypto.PublicKey;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

/**
 * Which publishers a distribution accepts, for which bundles, and what it no longer accepts. JSON:
 *
 * <pre>
 * {
 *   "publishers": [
 *     { "name": "Commonweal foundation", "key": "&lt;hex Ed25519 public key&gt;", "bundles": ["org.commonweal.*"] },
 *     { "name": "dev build", "key": "file:../../bundle-repo/target/dev-publisher/publisher.pub", "bundles": ["*"] }
 *   ],
 *   "revoked": { "keys": ["&lt;hex&gt;"], "artifacts": ["&lt;sha256 hex&gt;"], "lists": ["file:revoked.json"] }
 * }
 * </pre>
 *
 * A revocation list ({@code lists}) is a file of the {@code revoked} object's shape ({@code keys}, {@code artifacts})
 * that several policies share; it is read every time and a list that cannot be read is an error, never skipped.
 * An optional {@code "index-signers": [keys]} names the keys that may sign the index (a shared repository's operator,
 * so that any author may publish without every distribution listing every author); without it, any listed publisher
 * may. A key is hex, or {@code file:PATH} (relative to the file the policy is read from) naming a file holding the hex.
 * A bundle pattern is a symbolic name in which {@code *} stands for any characters. The index must be signed by a
 * listed, unrevoked publisher; each artifact by a listed, unrevoked publisher whose patterns match its name, and its
 * hash must not be revoked.
 */
public final class TrustPolicy {

    /** A publisher key and the bundles it may publish. */
    public record Publisher(String name, PublicKey key, List<String> bundles) {

        boolean mayPublish(String symbolicName) {
            return bundles.stream().anyMatch(pattern -> glob(pattern).matcher(symbolicName).matches());
        }
    }

    private final String source;
    private final List<Publisher> publishers;
    /** Keys accepted to sign the index; empty: any listed publisher's. */
    private final Set<PublicKey> indexSigners;
    private final Set<PublicKey> revokedKeys;
    private final Set<String> revokedArtifacts;

    public TrustPolicy(String source, List<Publisher> publishers, Set<PublicKey> revokedKeys, Set<String> revokedArtifacts) {
        this(source, publishers, Set.of(), revokedKeys, revokedArtifacts);
    }

    public TrustPolicy(String source, List<Publisher> publishers, Set<PublicKey> indexSigners, Set<PublicKey> revokedKeys,
            Set<String> revokedArtifacts) {
        this.source = source;
        this.publishers = List.copyOf(publishers);
        this.indexSigners = Set.copyOf(indexSigners);
        this.revokedKeys = Set.copyOf(revokedKeys);
        this.revokedArtifacts = Set.copyOf(revokedArtifacts);
    }

    /** Where the policy came from, for messages. */
    public String source() {
        return source;
    }

    public List<Publisher> publishers() {
        return publishers;
    }

    public static TrustPolicy read(Path file) throws RepositoryException {
        try (InputStream in = Files.newInputStream(file); JsonReader reader = Json.createReader(in)) {
            return of(reader.readObject(), file.toAbsolutePath().getParent(), file.toString());
        } catch (IOException | JsonException | ClassCastException e) {
            throw new RepositoryException("trust file " + file + " cannot be read (" + e.getMessage() + "). Fix: make it"
                    + " JSON as the README's \"Trust\" section shows", e);
        }
    }

    /** A policy from its JSON; {@code base} resolves {@code file:} keys, {@code source} names it in messages. */
    public static TrustPolicy of(JsonObject json, Path base, String source) throws RepositoryException {
        List<Publisher> publishers = new ArrayList<>();
        try {
            for (JsonValue value : json.getJsonArray("publishers") == null ? JsonValue.EMPTY_JSON_ARRAY
                    : json.getJsonArray("publishers")) {
                JsonObject entry = value.asJsonObject();
                String key = entry.getString("key");
                List<String> bundles = strings(entry.getJsonArray("bundles"));
                if (bundles.isEmpty()) {
                    throw new RepositoryException("trust policy " + source + ": publisher " + key + " has no \"bundles\""
                            + " patterns. Fix: list the symbolic names it may publish, e.g. [\"org.example.*\"]");
                }
                publishers.add(new Publisher(entry.getString("name", key), key(key, base, source), bundles));
            }
            Set<PublicKey> indexSigners = new LinkedHashSet<>();
            for (String key : strings(json.getJsonArray("index-signers"))) {
                indexSigners.add(key(key, base, source));
            }
            Set<PublicKey> revokedKeys = new LinkedHashSet<>();
            Set<String> revokedArtifacts = new LinkedHashSet<>();
            JsonObject revoked = json.getJsonObject("revoked");
            if (revoked != null) {
                revocations(revoked, base, source, revokedKeys, revokedArtifacts);
                // Shared revocation lists (the foundation's, a country's): files of the same shape, read every time.
                for (String list : strings(revoked.getJsonArray("lists"))) {
                    Path file = base.resolve(list.startsWith("file:") ? list.substring("file:".length()) : list).normalize();
                    try (InputStream in = Files.newInputStream(file); JsonReader reader = Json.createReader(in)) {
                        revocations(reader.readObject(), file.getParent(), file.toString(), revokedKeys, revokedArtifacts);
                    } catch (IOException | JsonException e) {
                        throw new RepositoryException("trust policy " + source + " names revocation list " + file + ", which"
                                + " cannot be read (" + e + "). Fix: restore the file; a revocation list is never skipped", e);
                    }
                }
            }
            return new TrustPolicy(source, publishers, indexSigners, revokedKeys, revokedArtifacts);
        } catch (NullPointerException | ClassCastException e) {
            throw new RepositoryException("trust policy " + source + " is not in the expected shape (" + e.getMessage()
                    + "). Fix: see the README's \"Trust\" section", e);
        }
    }

    private static void revocations(JsonObject revoked, Path base, String source, Set<PublicKey> keys, Set<String> artifacts)
            throws RepositoryException {
        for (String key : strings(revoked.getJsonArray("keys"))) {
            keys.add(key(key, base, source));
        }
        strings(revoked.getJsonArray("artifacts")).forEach(hash -> artifacts.add(hash.toLowerCase()));
    }

    private static PublicKey key(String text, Path base, String source) throws RepositoryException {
        String hex = text;
        if (text.startsWith("file:")) {
            Path file = base.resolve(text.substring("file:".length())).normalize();
            try {
                hex = Files.readString(file, StandardCharsets.US_ASCII).strip();
            } catch (IOException e) {
                throw new RepositoryException("trust policy " + source + " names key file " + file + ", which cannot be"
                        + " read (" + e + "). Fix: build the repository first (./mvnw install), or give the key in hex", e);
            }
        }
        try {
            return PublicKey.fromHex(hex);
        } catch (IllegalArgumentException e) {
            throw new RepositoryException("trust policy " + source + ": " + e.getMessage() + ". Fix: give the publisher's"
                    + " hex public key (cw repo keygen prints it)", e);
        }
    }

    private static List<String> strings(JsonArray array) {
        List<String> out = new ArrayList<>();
        if (array != null) {
            array.getValuesAs(JsonString.class).forEach(s -> out.add(s.getString()));
        }
        return out;
    }

    static Pattern glob(String pattern) {
        StringBuilder regex = new StringBuilder();
        for (String part : pattern.split("\\*", -1)) {
            if (!regex.isEmpty()) {
                regex.append(".*");
            }
            regex.append(Pattern.quote(part));
        }
        return Pattern.compile(regex.toString());
    }

    /** The policy as JSON, every key in hex (an assembled distribution carries it so, independent of key files). */
    public JsonObject toJson() {
        var publishersJson = Json.createArrayBuilder();
        for (Publisher p : publishers) {
            var bundles = Json.createArrayBuilder();
            p.bundles().forEach(bundles::add);
            publishersJson.add(Json.createObjectBuilder().add("name", p.name()).add("key", p.key().hex()).add("bundles", bundles));
        }
        var keys = Json.createArrayBuilder();
        revokedKeys.stream().map(PublicKey::hex).sorted().forEach(keys::add);
        var artifacts = Json.createArrayBuilder();
        revokedArtifacts.stream().sorted().forEach(artifacts::add);
        var signers = Json.createArrayBuilder();
        indexSigners.stream().map(PublicKey::hex).sorted().forEach(signers::add);
        return Json.createObjectBuilder().add("publishers", publishersJson).add("index-signers", signers)
                .add("revoked", Json.createObjectBuilder().add("keys", keys).add("artifacts", artifacts)).build();
    }

    /** Why the index signer is refused, or empty if accepted. */
    public Optional<String> refuseIndexSigner(PublicKey key) {
        if (revokedKeys.contains(key)) {
            return Optional.of("it is signed by key " + key + ", which " + source + " revokes. Fix: ask the repository's"
                    + " maintainer to re-sign it with a valid key, or use another repository");
        }
        if (!indexSigners.isEmpty()) {
            if (!indexSigners.contains(key)) {
                return Optional.of("it is signed by key " + key + ", which is not one of the index signers " + source
                        + " accepts (\"index-signers\"). Fix: have the repository's operator re-sign it (cw repo publish"
                        + " --index-key), or add that key to \"index-signers\" if you trust it");
            }
            return Optional.empty();
        }
        if (publishers.stream().noneMatch(p -> p.key().equals(key))) {
            return Optional.of("it is signed by key " + key + ", which " + source + " does not list as a publisher. Fix:"
                    + " add that key to the trust policy if you trust it, or use a repository signed by a listed key");
        }
        return Optional.empty();
    }

    /** Why {@code artifact} is refused (its signature is checked elsewhere), or empty if accepted. */
    public Optional<String> refuse(Artifact artifact) {
        if (revokedKeys.contains(artifact.publisher())) {
            return Optional.of("its publisher key " + artifact.publisher() + " is revoked by " + source + ". Fix: use a"
                    + " version of the bundle published with a valid key, or remove it from the distribution");
        }
        if (revokedArtifacts.contains(artifact.sha256())) {
            return Optional.of("its content (sha256 " + artifact.sha256() + ") is revoked by " + source + ". Fix: use"
                    + " another version of the bundle");
        }
        List<Publisher> listed = publishers.stream().filter(p -> p.key().equals(artifact.publisher())).toList();
        if (listed.isEmpty()) {
            return Optional.of("its publisher key " + artifact.publisher() + " is not in " + source + ". Fix: add the key"
                    + " with a pattern matching " + artifact.symbolicName() + " if you trust that publisher");
        }
        if (listed.stream().noneMatch(p -> p.mayPublish(artifact.symbolicName()))) {
            return Optional.of("its publisher " + listed.get(0).name() + " (" + artifact.publisher() + ") may publish only "
                    + listed.stream().flatMap(p -> p.bundles().stream()).toList() + " under " + source + ". Fix: widen"
                    + " that publisher's patterns if it should publish " + artifact.symbolicName());
        }
        return Optional.empty();
    }
}
