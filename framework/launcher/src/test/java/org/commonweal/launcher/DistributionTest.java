package org.commonweal.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DistributionTest {

    @TempDir
    Path dir;

    @Test
    void readsBundlesTypedConfigurationsAndFrameworkProperties() throws Exception {
        Files.writeString(dir.resolve("feature.json"), """
                {
                  "feature-resource-version": "1.0",
                  "id": "org.example:nation:osgifeature:2.1.0",
                  "name": "nation",
                  "bundles": [ { "id": "org.example:one:1.0.0" }, { "id": "org.example:two:jar:linux:2.0.0" } ],
                  "configurations": {
                    "org.apache.felix.http": { "org.osgi.service.http.port:Integer": 9000, "host": "127.0.0.1" },
                    "org.example.adapter~fr": { "language": "fr" }
                  },
                  "extensions": {
                    "framework-launching-properties": {
                      "type": "json", "kind": "mandatory", "json": { "a.property": "a value", "a.number": 5 }
                    }
                  }
                }""");
        jar("org/example/one/1.0.0/one-1.0.0.jar");
        jar("org/example/two/2.0.0/two-2.0.0-linux.jar");
        jar("org/example/stray/1.0.0/stray-1.0.0.jar");

        Distribution distribution = Distribution.load(dir);

        assertEquals("nation", distribution.name());
        assertEquals("2.1.0", distribution.version());
        assertEquals(2, distribution.bundles().size());
        assertEquals(dir.resolve("bundles/org/example/two/2.0.0/two-2.0.0-linux.jar"), distribution.bundles().get(1).jar());
        assertEquals(9000, distribution.configurations().get("org.apache.felix.http").get("org.osgi.service.http.port"));
        assertEquals("fr", distribution.configurations().get("org.example.adapter~fr").get("language"));
        assertEquals(Map.of("a.property", "a value", "a.number", "5"), distribution.frameworkProperties());
        assertEquals(1, distribution.unlistedJars().size());
    }

    @Test
    void aFolderWithoutAFeatureFileSaysSo() {
        LaunchException error = assertThrows(LaunchException.class, () -> Distribution.load(dir));
        assertTrue(error.getMessage().startsWith("distribution " + dir + " has no feature.json"), error.getMessage());
    }

    @Test
    void aMalformedFeatureFileNamesTheFileAndTheFix() throws Exception {
        Files.writeString(dir.resolve("feature.json"), "{ \"id\": ");
        LaunchException error = assertThrows(LaunchException.class, () -> Distribution.load(dir));
        assertTrue(error.getMessage().startsWith("feature " + dir.resolve("feature.json") + " cannot be read"),
                error.getMessage());
        assertTrue(error.getMessage().contains("Fix: make it a valid OSGi feature"), error.getMessage());
    }

    private void jar(String path) throws Exception {
        Path jar = dir.resolve("bundles").resolve(path);
        Files.createDirectories(jar.getParent());
        Files.write(jar, new byte[] { 'P', 'K' });
    }
}
