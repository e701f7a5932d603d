package org.commonweal.management;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * {@code <data>/management/running.json}: for every bundle upgraded in this data directory, the jar it runs now, the
 * jars it ran before (for {@code cw rollback}) and the distribution's jar it replaced. The launcher reads it at start
 * and installs the same jars again (see Node.applyKeptUpgrades), so an upgrade survives a restart, but only over the
 * distribution jar it replaced: a distribution with another jar for that bundle wins. Written atomically.
 */
final class RunningVersions {

    /** One jar: its version, SHA-256 and where it is kept. */
    record Jar(String version, String sha256, Path jar) {
    }

    /** A bundle's upgrade state. */
    record Entry(Jar distribution, Jar current, List<Jar> previous) {
    }

    static final String FILE = "running.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final Path file;

    RunningVersions(Path directory) {
        this.file = directory.resolve(FILE);
    }

    Map<String, Entry> read() throws IOException {
        Map<String, Entry> entries = new LinkedHashMap<>();
        if (!Files.isRegularFile(file)) {
            return entries;
        }
        JsonNode root = JSON.readTree(file.toFile());
        root.fields().forEachRemaining(field -> {
            List<Jar> previous = new ArrayList<>();
            field.getValue().path("previous").forEach(p -> previous.add(jar(p)));
            entries.put(field.getKey(), new Entry(jar(field.getValue().path("distribution")),
                    jar(field.getValue().path("current")), previous));
        });
        return entries;
    }

    void write(Map<String, Entry> entries) throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        entries.forEach((bsn, entry) -> out.put(bsn, Map.of("distribution", json(entry.distribution()), "current",
                json(entry.current()), "previous", entry.previous().stream().map(RunningVersions::json).toList())));
        Path temp = Files.createTempFile(file.getParent(), "running", ".json");
        JSON.writeValue(temp.toFile(), out);
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Jar jar(JsonNode node) {
        return new Jar(node.path("version").asText(), node.path("sha256").asText(), Path.of(node.path("jar").asText()));
    }

    private static Map<String, String> json(Jar jar) {
        return Map.of("version", jar.version(), "sha256", jar.sha256(), "jar", jar.jar().toString());
    }
}
