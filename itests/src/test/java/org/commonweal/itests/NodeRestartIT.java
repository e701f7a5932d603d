package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.commonweal.launcher.Node;
import org.junit.Test;

import jakarta.json.Json;

/**
 * The node key survives a framework restart: the launcher boots the real framework from the dev
 * distribution twice on one data directory, and the node id stays the same. (Pax Exam cannot restart
 * its own framework mid-test, so the launcher does it.)
 */
public class NodeRestartIT {

    @Test
    public void nodeKeySurvivesAFrameworkRestart() throws Exception {
        Path data = DevDistribution.workFolder("restart");
        String first = bootAndReadNodeId(data);
        Path key = data.resolve("node.key");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        String pem = Files.readString(key);
        assertTrue(pem, pem.startsWith("-----BEGIN PRIVATE KEY-----"));

        String second = bootAndReadNodeId(data);
        assertEquals("node id after restart", first, second);
        assertEquals("key file untouched", pem, Files.readString(key));
    }

    private static String bootAndReadNodeId(Path data) throws Exception {
        int port = DevDistribution.freePort();
        try (Node node = Node.start(new Node.Options(DevDistribution.directory(), data, port), new PrintStream(
                PrintStream.nullOutputStream()))) {
            String body = CwNodeIT.get(port, "/api/node").body();
            return Json.createReader(new StringReader(body)).readObject().getString("nodeId");
        }
    }
}
