package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.OutputStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.Test;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

/**
 * A second publisher, end to end with the command line only: mirror the build's repository, make a key, publish a
 * bundle of one's own into the mirror (re-signing its index), and assemble a distribution that trusts both keys
 * and asks for the new bundle by a capability it provides, not by name; the result boots with it ACTIVE.
 */
public class PublishAndAssembleIT {

    static Path extensionBundle(Path dir) throws Exception {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", "org.example.hello");
        main.putValue("Bundle-Version", "1.0.0");
        main.putValue("Import-Package", "org.commonweal.node.api;version=\"[1.0,2)\"");
        main.putValue("Provide-Capability", "commonweal.example;commonweal.example=hello");
        Path jar = dir.resolve("org.example.hello-1.0.0.jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            out.putNextEntry(new JarEntry("META-INF/MANIFEST.MF"));
            manifest.write(out);
            out.putNextEntry(new JarEntry("META-INF/maven/org.example/org.example.hello/pom.properties"));
            out.write("groupId=org.example\nartifactId=org.example.hello\nversion=1.0.0\n".getBytes());
        }
        return jar;
    }

    static String run(String... arguments) throws Exception {
        try (CwProcess cw = CwProcess.start(arguments)) {
            assertEquals(cw.output(), 0, cw.exitCode(120));
            return cw.output();
        }
    }

    @Test
    public void aBundleOfAnotherPublisherIsPublishedAssembledByCapabilityAndBoots() throws Exception {
        Path work = DevDistribution.workFolder("publish");
        Path repo = work.resolve("repo");
        run("repo", "mirror", DevDistribution.home().resolve("bundle-repo/target/repository").toString(), repo.toString());
        String authorKey = run("repo", "keygen", work.resolve("author.key").toString()).lines()
                .filter(l -> l.matches("[0-9a-f]{64}")).findFirst().orElseThrow();
        String published = run("repo", "publish", extensionBundle(work).toString(), "--key", work.resolve("author.key").toString(),
                "--repo", repo.toString());
        assertTrue(published, published.contains("published org.example.hello 1.0.0 (org.example:org.example.hello:1.0.0"));

        // The dev feature, renamed, asking for "a greeting" and trusting the build's key for all and the author's for
        // org.example.* only.
        JsonObject dev = Json.createReader(new StringReader(Files.readString(
                DevDistribution.home().resolve("distributions/dev/target/dist/feature.json")))).readObject();
        String devKey = Files.readString(DevDistribution.home().resolve("bundle-repo/target/dev-publisher/publisher.pub")).strip();
        JsonObject assembly = Json.createObjectBuilder()
                .add("requirements", Json.createArrayBuilder().add(Json.createObjectBuilder().add("description", "a greeting")
                        .add("namespace", "commonweal.example").add("filter", "(commonweal.example=hello)")))
                .add("repositories", Json.createArrayBuilder().add("../../repo"))
                .add("trust", Json.createObjectBuilder().add("publishers", Json.createArrayBuilder()
                        .add(Json.createObjectBuilder().add("name", "build").add("key", devKey)
                                .add("bundles", Json.createArrayBuilder().add("*")))
                        .add(Json.createObjectBuilder().add("name", "author").add("key", authorKey)
                                .add("bundles", Json.createArrayBuilder().add("org.example.*")))))
                .build();
        JsonObject extensions = Json.createObjectBuilder(dev.getJsonObject("extensions")).add("commonweal-assembly",
                Json.createObjectBuilder().add("type", "json").add("kind", "mandatory").add("json", assembly)).build();
        JsonObject feature = Json.createObjectBuilder(dev).add("id", "org.example:hello:1.0.0").add("name", "hello")
                .add("extensions", extensions).build();
        Path dist = work.resolve("distributions/hello");
        Files.createDirectories(dist);
        Files.writeString(dist.resolve("feature.json"), feature.toString());

        String assembled = run("assemble", dist.toString(), "--out", work.resolve("out").toString());
        int expected = DevDistribution.load().bundles().size() + 1;
        assertTrue(assembled, assembled.contains("resolved " + expected + " bundles (lock file written)"));
        String explained = run("explain", dist.toString(), "org.example.hello");
        assertTrue(explained, explained.contains("distribution hello needs a greeting"));

        int port = DevDistribution.freePort();
        List<String> command = List.of(work.resolve("out/hello/bin/cw-node").toString(), "--port", Integer.toString(port),
                "--data", work.resolve("data").toString());
        try (CwProcess node = CwProcess.run(Map.of("JAVA_HOME", System.getProperty("java.home")), command)) {
            assertEquals(200, CwNodeIT.awaitHealthy(node, port).statusCode());
            JsonObject info = Json.createReader(new StringReader(CwNodeIT.get(port, "/api/node").body())).readObject();
            boolean active = false;
            for (JsonValue value : info.getJsonArray("bundles")) {
                JsonObject bundle = value.asJsonObject();
                active |= bundle.getString("symbolicName").equals("org.example.hello") && bundle.getString("state").equals("ACTIVE");
            }
            assertTrue(info.toString(), active);
            node.terminate();
            assertEquals(node.output(), 0, node.exitCode(60));
        }
    }
}
