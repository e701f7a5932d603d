package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.Test;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

/** Black box: {@code ./cw node} as a separate process, as an operator runs it. */
public class CwNodeIT {

    @Test
    public void servesHealthListsEveryBundleActiveAndExitsZeroOnSigterm() throws Exception {
        int port = DevDistribution.freePort();
        Path data = DevDistribution.workFolder("cw-node");
        try (CwProcess node = CwProcess.start("node", "--port", Integer.toString(port), "--data", data.toString())) {
            HttpResponse<String> health = awaitHealthy(node, port);
            assertEquals(health.body(), 200, health.statusCode());

            JsonObject info = Json.createReader(new StringReader(get(port, "/api/node").body())).readObject();
            assertEquals(64, info.getString("nodeId").length());
            assertEquals("dev", info.getJsonObject("distribution").getString("name"));
            int bundles = 0;
            for (JsonValue value : info.getJsonArray("bundles")) {
                JsonObject bundle = value.asJsonObject();
                assertEquals(bundle.getString("symbolicName"), "ACTIVE", bundle.getString("state"));
                bundles++;
            }
            assertEquals("the framework and every bundle of the feature", DevDistribution.load().bundles().size() + 1,
                    bundles);

            // With no model anywhere, the dev distribution writes and serves the demo model, labelled as such.
            String models = get(port, "/v1/models").body();
            for (long deadline = System.currentTimeMillis() + 60_000; !models.contains("commonweal-demo")
                    && System.currentTimeMillis() < deadline; models = get(port, "/v1/models").body()) {
                Thread.sleep(100);
            }
            assertTrue(models, models.contains("\"id\":\"commonweal-demo\"") && models.contains("\"demo\":true"));
            assertTrue(Files.isRegularFile(data.resolve("models/commonweal-demo.gguf")));

            node.terminate();
            assertEquals(node.output(), 0, node.exitCode(60));
            assertTrue(node.output(), node.output().contains("Node stopped."));
            // Regression: an SLF4J provider on the launcher's class path made the framework's SLF4J reject its own.
            assertFalse(node.output(), node.output().contains("No SLF4J providers were found"));
            assertTrue(node.output(), node.output().contains(" INFO org.commonweal.chain.internal.LocalChain - chain "));
        }
    }

    static HttpResponse<String> awaitHealthy(CwProcess node, int port) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            assertTrue("cw node exited early:\n" + node.output(), node.isAlive());
            try {
                HttpResponse<String> response = get(port, "/health");
                if (response.statusCode() == 200) {
                    return response;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no healthy node on port " + port + " within 120 s; output:\n" + node.output());
    }

    static HttpResponse<String> get(int port, String path) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    public void shellRunsTheCwCommands() throws Exception {
        int port = DevDistribution.freePort();
        try (CwProcess node = CwProcess.start("node", "--shell", "--port", Integer.toString(port), "--data",
                DevDistribution.workFolder("shell").toString())) {
            awaitHealthy(node, port);
            node.type("cw:health\ncw:bundles\n");
            long deadline = System.currentTimeMillis() + 30_000;
            while (!(node.output().contains("UP") && node.output().contains("org.commonweal.node.api"))) {
                assertTrue("no answer from the shell within 30 s:\n" + node.output(), System.currentTimeMillis() < deadline);
                Thread.sleep(100);
            }
            node.terminate();
            assertEquals(node.output(), 0, node.exitCode(60));
        }
    }
}
