package org.commonweal.repo;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** Small, real bundles for tests: a manifest, a pom.properties and one class-sized file, with fixed timestamps. */
final class TestBundles {

    private final Map<String, String> headers = new LinkedHashMap<>();
    private String mavenId;

    private TestBundles(String bsn, String version) {
        headers.put("Bundle-ManifestVersion", "2");
        headers.put("Bundle-SymbolicName", bsn);
        headers.put("Bundle-Version", version);
        mavenId = "org.example:" + bsn + ":" + version;
    }

    static TestBundles bundle(String bsn, String version) {
        return new TestBundles(bsn, version);
    }

    TestBundles header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    TestBundles exports(String packages) {
        return header("Export-Package", packages);
    }

    TestBundles imports(String packages) {
        return header("Import-Package", packages);
    }

    TestBundles requires(String capabilities) {
        return header("Require-Capability", capabilities);
    }

    TestBundles provides(String capabilities) {
        return header("Provide-Capability", capabilities);
    }

    TestBundles mavenId(String id) {
        this.mavenId = id;
        return this;
    }

    Path writeTo(Path directory) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        headers.forEach((k, v) -> manifest.getMainAttributes().putValue(k, v));
        Files.createDirectories(directory);
        Path jar = directory.resolve(headers.get("Bundle-SymbolicName") + "-" + headers.get("Bundle-Version") + ".jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            entry(out, "META-INF/MANIFEST.MF", null);
            manifest.write(out);
            String[] gav = mavenId.split(":");
            entry(out, "META-INF/maven/" + gav[0] + "/" + gav[1] + "/pom.properties",
                    ("groupId=" + gav[0] + "\nartifactId=" + gav[1] + "\nversion=" + gav[2] + "\n").getBytes(StandardCharsets.UTF_8));
            entry(out, "readme.txt", ("bundle " + headers + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return jar;
    }

    private static void entry(JarOutputStream out, String name, byte[] content) throws IOException {
        JarEntry entry = new JarEntry(name);
        entry.setTime(0);
        out.putNextEntry(entry);
        if (content != null) {
            out.write(content);
        }
    }
}
