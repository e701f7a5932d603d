package org.commonweal.management;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;

/** The configuration conflicts an upgrade reports: operator values whose default the new version changes. */
class ConfigurationReportTest {

    @Test
    void theDefaultsOfAJarAreReadFromItsComponentDescriptions() throws Exception {
        Map<String, Map<String, String>> defaults = ConfigurationReport.defaultsIn(jar(Map.of(
                "OSGI-INF/a.xml", """
                        <?xml version="1.0" encoding="UTF-8"?>
                        <scr:component xmlns:scr="http://www.osgi.org/xmlns/scr/v1.4.0" name="a.Models" configuration-pid="org.example.models">
                          <property name="maxBatch" type="Integer" value="12"/>
                          <property name="models" type="String">
                            one.gguf
                            two.gguf
                          </property>
                          <property name="service.ranking" type="Integer" value="5"/>
                          <implementation class="a.Models"/>
                        </scr:component>
                        """,
                "OSGI-INF/b.xml", """
                        <component name="b.Other"><property name="x" value="1"/></component>
                        """), "OSGI-INF/a.xml,OSGI-INF/b.xml"));
        assertEquals(Map.of("org.example.models", Map.of("maxBatch", "12", "models", "[one.gguf, two.gguf]"),
                "b.Other", Map.of("x", "1")), defaults);
        assertEquals(Map.of(), ConfigurationReport.defaultsIn(jar(Map.of(), null)), "no Service-Component: no defaults");
    }

    @Test
    void anOperatorValueWhoseDefaultChangesIsAConflictAndKept() {
        List<ConfigurationReport.Value> values = List.of(
                new ConfigurationReport.Value("org.example.models", "maxBatch", "8", "operator", "overrides the distribution's 16"),
                new ConfigurationReport.Value("org.example.models", "maxQueued", "32", "operator", null),
                new ConfigurationReport.Value("org.example.models", "prefillChunk", "128", "distribution", null),
                new ConfigurationReport.Value("org.example.models", "removed", "yes", "operator", null),
                new ConfigurationReport.Value("org.example.other", "maxBatch", "1", "operator", null));
        Map<String, Map<String, String>> running = Map.of("org.example.models",
                Map.of("maxBatch", "16", "maxQueued", "64", "prefillChunk", "256", "removed", "no"));
        Map<String, Map<String, String>> next = Map.of("org.example.models",
                Map.of("maxBatch", "12", "maxQueued", "64", "prefillChunk", "512"));
        assertEquals(List.of(
                "org.example.models maxBatch: the operator's 8 is kept; the default changes from 16 to 12",
                "org.example.models removed: the operator's yes is kept; the default changes from no to (none)"),
                ConfigurationReport.conflicts(values, running, next));
    }

    private static byte[] jar(Map<String, String> files, String serviceComponent) throws Exception {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (serviceComponent != null) {
            manifest.getMainAttributes().putValue("Service-Component", serviceComponent);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream out = new JarOutputStream(bytes, manifest)) {
            for (var file : new java.util.TreeMap<>(files).entrySet()) {
                out.putNextEntry(new JarEntry(file.getKey()));
                out.write(file.getValue().getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        return bytes.toByteArray();
    }
}
