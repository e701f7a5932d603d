package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The three sample national distributions, each assembled with {@code ./cw assemble} from the build's signed
 * repository and booted from the assembled folder on its own script: each runs its own consensus engine, chain
 * id and configuration, and serves the demo model with its own culture pack, which the repository supplied for
 * the feature's requirement "an adapter for ..." and which answers requests that name no adapter.
 */
public class NationalDistributionsIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    private record Nation(String name, String engine, int chainId, String pack, String language) {
    }

    /**
     * A copy of the distribution's feature (as the build filled in its versions) and lock file, beside a link to the
     * build's repository (the feature names it by a relative path): {@code --update} rewrites the lock file, and a
     * test must not change the source tree.
     */
    private static Path sourceCopy(String name) throws java.io.IOException {
        Path root = DevDistribution.workFolder("national-source-" + name);
        Path copy = Files.createDirectories(root.resolve("distributions").resolve(name));
        Path source = DevDistribution.home().resolve("distributions").resolve(name);
        // the feature as the build filled in its versions, and the lock file beside it
        Files.copy(source.resolve("target/dist/feature.json"), copy.resolve("feature.json"));
        Files.copy(source.resolve("feature.lock.json"), copy.resolve("feature.lock.json"));
        Path repo = root.resolve("bundle-repo");
        if (!Files.exists(repo, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.createSymbolicLink(repo, DevDistribution.home().toAbsolutePath().normalize().resolve("bundle-repo"));
        }
        return copy;
    }

    @Test
    public void eachAssemblesAndBootsWithItsEngineConfigurationAndCulturePack() throws Exception {
        for (Nation nation : List.of(new Nation("kenya", "solo", 254, "sw-ke", "sw-KE"),
                new Nation("india", "bft", 356, "hi-in", "hi-IN"), new Nation("brazil", "solo", 76, "pt-br", "pt-BR"))) {
            Path out = DevDistribution.workFolder("national-" + nation.name());
            try (CwProcess assemble = CwProcess.start("assemble", sourceCopy(nation.name()).toString(), "--update", "--out",
                    out.toString())) {
                assertEquals(assemble.output(), 0, assemble.exitCode(180));
            }
            Path folder = out.resolve(nation.name());
            String lock = Files.readString(folder.resolve("feature.lock.json"));
            assertTrue(nation.name() + " has its pack from the repository", lock.contains("org.commonweal.culture." + nation.pack()));
            for (String other : List.of("sw-ke", "hi-in", "pt-br")) {
                assertTrue(other.equals(nation.pack()) || !lock.contains("org.commonweal.culture." + other));
            }
            int port = DevDistribution.freePort();
            Path data = DevDistribution.workFolder("national-data-" + nation.name());
            try (CwProcess node = CwProcess.run(Map.of("JAVA_HOME", System.getProperty("java.home")), List.of(
                    folder.resolve("bin/cw-node").toString(), "--port", Integer.toString(port), "--data", data.toString()))) {
                assertEquals(200, CwNodeIT.awaitHealthy(node, port).statusCode());
                JsonNode info = JSON.readTree(CwNodeIT.get(port, "/api/node").body());
                assertEquals(nation.name(), info.get("distribution").get("name").asText());
                JsonNode chain = JSON.readTree(CwNodeIT.get(port, "/api/chain").body());
                assertEquals(nation.chainId(), chain.get("chainId").asInt());
                assertEquals(chain.toString(), nation.engine(), chain.get("engine").asText());

                String adapterId = "commonweal-demo:" + nation.pack();
                JsonNode adapter = awaitModel(port, adapterId, node);
                assertTrue(adapter.toString(), adapter.get("meta").get("languages").toString().contains(nation.language()));
                HttpResponse<String> reply = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/v1/chat/completions")).timeout(Duration.ofSeconds(60))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                                "{\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}], \"max_tokens\": 4}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(reply.body(), 200, reply.statusCode());
                assertEquals("the distribution's default adapter answers", adapterId,
                        JSON.readTree(reply.body()).get("model").asText());

                // A transfer commits through the nation's engine (BFT: a single-validator network of this node).
                try (CwProcess tx = CwProcess.start("tx", "transfer", "--node", "http://127.0.0.1:" + port, "--key",
                        data.resolve("node.key").toString(), "--to", "11".repeat(32), "--amount", "5", "--wait", "60")) {
                    assertEquals(tx.output(), 0, tx.exitCode(120));
                    assertTrue(tx.output(), tx.output().contains("committed"));
                }
                node.terminate();
                assertEquals(node.output(), 0, node.exitCode(60));
            }
        }
    }

    private static JsonNode awaitModel(int port, String id, CwProcess node) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            for (JsonNode model : JSON.readTree(CwNodeIT.get(port, "/v1/models").body()).get("data")) {
                if (model.get("id").asText().equals(id)) {
                    return model;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no model " + id + " within 60 s:\n" + node.output());
    }
}
