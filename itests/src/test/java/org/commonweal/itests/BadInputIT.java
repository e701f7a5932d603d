package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.Test;

/**
 * Each bad input gives ONE clear message (the thing, the cause, the fix), a non-zero exit, and leaves
 * nothing running: {@code ./cw node} is run as a separate process and must end by itself.
 */
public class BadInputIT {

    @Test
    public void featureNamingAMissingBundle() throws Exception {
        Path dist = DevDistribution.workFolder("missing-bundle");
        Files.writeString(dist.resolve("feature.json"), feature("test:absent:1.0.0"));
        String output = runExpectingFailure("node", "--dist", dist.toString(), "--data", data());
        assertContains(output, "names bundle test:absent:1.0.0");
        assertContains(output, dist.resolve("bundles/test/absent/1.0.0/absent-1.0.0.jar").toString());
        assertContains(output, "Fix:");
    }

    @Test
    public void bundleThatCannotResolveNamesTheRootRequirementFirst() throws Exception {
        Path dist = DevDistribution.workFolder("unresolvable");
        bundle(dist, "user", "Import-Package", "test.needy;version=\"[1.0,2)\"");
        bundle(dist, "needy", "Import-Package", "org.nowhere;version=\"[1.0,2)\"", "Export-Package", "test.needy;version=1.0.0");
        Files.writeString(dist.resolve("feature.json"), feature("test:user:1.0.0", "test:needy:1.0.0"));
        String output = runExpectingFailure("node", "--dist", dist.toString(), "--data", data(), "--port",
                Integer.toString(DevDistribution.freePort()));
        String root = "bundle test.needy 1.0.0 needs package org.nowhere [1.0.0,2.0.0)";
        assertContains(output, root);
        assertContains(output, "bundle test.user 1.0.0 (needs test.needy)");
        assertTrue("root cause first:\n" + output, output.indexOf(root) < output.indexOf("test.user 1.0.0 (needs"));
        assertContains(output, "Fix: add a bundle that provides it to " + dist.resolve("feature.json"));
    }

    @Test
    public void portInUse() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String output = runExpectingFailure("node", "--port", Integer.toString(taken.getLocalPort()), "--data", data());
            assertContains(output, "port " + taken.getLocalPort() + " on 127.0.0.1 is already in use");
            assertContains(output, "--port N");
        }
    }

    @Test
    public void unwritableDataDirectory() throws Exception {
        // A file where a folder should be: unwritable even for root, who ignores permission bits.
        Path file = DevDistribution.workFolder("unwritable").resolve("a-file");
        Files.writeString(file, "not a directory");
        String output = runExpectingFailure("node", "--data", file.resolve("data").toString());
        assertContains(output, "data directory " + file.resolve("data") + " is not writable");
        assertContains(output, "--data DIR");
    }

    @Test
    public void noJdk25() throws Exception {
        Path emptyJvmFolder = DevDistribution.workFolder("no-jdks");
        try (CwProcess cw = CwProcess.start(Map.of("JAVA_HOME", emptyJvmFolder.toString(), "COMMONWEAL_JVM_DIR",
                emptyJvmFolder.toString()), "node")) {
            int exit = cw.exitCode(60);
            assertEquals(cw.output(), 1, exit);
            assertContains(cw.output(), "needs a JDK 25 or newer, and none was found");
            assertContains(cw.output(), "apt-get install");
        }
    }

    private static String runExpectingFailure(String... arguments) throws InterruptedException {
        try (CwProcess cw = CwProcess.start(arguments)) {
            int exit = cw.exitCode(120);
            assertEquals(cw.output(), 1, exit);
            assertTrue("one error line:\n" + cw.output(), cw.output().contains("error: "));
            return cw.output();
        }
    }

    private static String data() {
        return DevDistribution.workFolder("data").toString();
    }

    private static void assertContains(String output, String expected) {
        assertTrue("expected \"" + expected + "\" in:\n" + output, output.contains(expected));
    }

    private static String feature(String... bundleIds) {
        StringBuilder bundles = new StringBuilder();
        for (String id : bundleIds) {
            bundles.append(bundles.isEmpty() ? "" : ",").append("{\"id\":\"").append(id).append("\"}");
        }
        return "{\"feature-resource-version\":\"1.0\",\"id\":\"test:broken:1.0.0\",\"bundles\":[" + bundles + "]}";
    }

    /** A manifest-only bundle test.NAME 1.0.0 at bundles/test/NAME/1.0.0/NAME-1.0.0.jar. */
    private static void bundle(Path dist, String name, String... headers) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", "test." + name);
        main.putValue("Bundle-Version", "1.0.0");
        for (int i = 0; i < headers.length; i += 2) {
            main.putValue(headers[i], headers[i + 1]);
        }
        Path jar = dist.resolve("bundles/test/" + name + "/1.0.0/" + name + "-1.0.0.jar");
        Files.createDirectories(jar.getParent());
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream ignored = new JarOutputStream(out, manifest)) {
            // the manifest is the whole bundle
        }
    }
}
