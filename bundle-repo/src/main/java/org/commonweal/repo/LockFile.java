package org.commonweal.repo;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.osgi.framework.Version;

import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

/**
 * The exact bundles of an assembled distribution ({@code feature.lock.json} beside its feature file): each bundle's
 * Maven id, symbolic name, version, SHA-256, size and publisher, in start order, and a hash of the feature's inputs
 * (its bundles and requirements), so that a lock made for another version of the feature is noticed. With a lock
 * file, assembly uses exactly these bundles and resolves nothing.
 */
public record LockFile(String feature, String inputsSha256, List<Entry> bundles) {

    public static final String FILE = "feature.lock.json";
    static final int VERSION = 1;

    /** One locked bundle. */
    public record Entry(String id, String symbolicName, Version version, String sha256, long size, String publisher) {

        static Entry of(Artifact artifact) {
            return new Entry(artifact.mavenId(), artifact.symbolicName(), artifact.version(), artifact.sha256(),
                    artifact.size(), artifact.publisher().hex());
        }
    }

    public static LockFile of(String feature, String inputsSha256, List<Artifact> artifacts) {
        return new LockFile(feature, inputsSha256, artifacts.stream().map(Entry::of).toList());
    }

    public byte[] toBytes() {
        JsonArrayBuilder array = jakarta.json.Json.createArrayBuilder();
        for (Entry e : bundles) {
            array.add(jakarta.json.Json.createObjectBuilder().add("id", e.id()).add("symbolic-name", e.symbolicName())
                    .add("version", e.version().toString()).add("sha256", e.sha256()).add("size", e.size())
                    .add("publisher", e.publisher()));
        }
        return JsonBytes.bytes(jakarta.json.Json.createObjectBuilder().add("lock-version", VERSION).add("feature", feature)
                .add("inputs-sha256", inputsSha256).add("bundles", array).build());
    }

    public static LockFile read(Path file) throws RepositoryException {
        try {
            JsonObject json = jakarta.json.Json.createReader(new ByteArrayInputStream(Files.readAllBytes(file))).readObject();
            if (json.getInt("lock-version") != VERSION) {
                throw new RepositoryException("lock file " + file + " has version " + json.getInt("lock-version") + "; this"
                        + " cw reads version " + VERSION + ". Fix: assemble with --update to write a new one");
            }
            List<Entry> entries = new ArrayList<>();
            for (JsonValue value : json.getJsonArray("bundles")) {
                JsonObject e = value.asJsonObject();
                entries.add(new Entry(e.getString("id"), e.getString("symbolic-name"), Version.parseVersion(e.getString("version")),
                        e.getString("sha256"), e.getJsonNumber("size").longValue(), e.getString("publisher")));
            }
            return new LockFile(json.getString("feature"), json.getString("inputs-sha256"), List.copyOf(entries));
        } catch (IOException | JsonException | NullPointerException | ClassCastException | IllegalArgumentException e) {
            throw new RepositoryException("lock file " + file + " cannot be read (" + e.getMessage() + "). Fix: assemble with"
                    + " --update to write a new one", e);
        }
    }

    /** The artifacts of {@code index} that this lock names, each checked against the lock's hash. */
    public List<Artifact> select(RepositoryIndex index, Path file) throws RepositoryException {
        List<Artifact> artifacts = new ArrayList<>();
        for (Entry entry : bundles) {
            Artifact artifact = index.find(entry.symbolicName(), entry.version()).orElseThrow(() -> new RepositoryException(
                    "lock file " + file + " names bundle " + entry.symbolicName() + " " + entry.version() + " (" + entry.id()
                            + "), which the repository does not have. Fix: use the repository it was locked against (a"
                            + " mirror of it), or assemble with --update to resolve again"));
            if (!artifact.sha256().equals(entry.sha256())) {
                throw new RepositoryException("bundle " + artifact.name() + " in the repository (sha256 " + artifact.sha256()
                        + ") is not the one lock file " + file + " names (sha256 " + entry.sha256() + "). Fix: find out why"
                        + " the repository changed; assemble with --update only if the new bundle is wanted");
            }
            artifacts.add(artifact);
        }
        return artifacts;
    }
}
