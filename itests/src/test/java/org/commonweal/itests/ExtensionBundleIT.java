package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.ledger.TransactionCodec;
import org.junit.Test;

import jakarta.json.Json;
import jakarta.json.JsonObject;

/**
 * The bundle author's path, end to end: {@code examples/memo}, a Maven project of its own built against the
 * ledger's API bundle only, adds a transaction type; its author publishes it with {@code cw repo publish}; a
 * distribution asks for "a transaction type" by capability, trusts the author for {@code org.example.*} only,
 * assembles and boots; the node then executes memo transactions, and refuses a malformed one with its reason.
 */
public class ExtensionBundleIT {

    @Test
    public void anAuthorsTransactionTypeIsPublishedAssembledAndExecutedByTheChain() throws Exception {
        Path work = DevDistribution.workFolder("extension");
        Path repo = work.resolve("repo");
        PublishAndAssembleIT.run("repo", "mirror", DevDistribution.home().resolve("bundle-repo/target/repository").toString(),
                repo.toString());
        String authorKey = PublishAndAssembleIT.run("repo", "keygen", work.resolve("author.key").toString()).lines()
                .filter(l -> l.matches("[0-9a-f]{64}")).findFirst().orElseThrow();
        Path jar = DevDistribution.home().resolve("examples/memo/target/org.example.memo-1.0.0.jar");
        String published = PublishAndAssembleIT.run("repo", "publish", jar.toString(), "--key",
                work.resolve("author.key").toString(), "--repo", repo.toString());
        assertTrue(published, published.contains("published org.example.memo 1.0.0"));

        JsonObject dev = Json.createReader(new StringReader(Files.readString(
                DevDistribution.home().resolve("distributions/dev/target/dist/feature.json")))).readObject();
        String devKey = Files.readString(DevDistribution.home().resolve("bundle-repo/target/dev-publisher/publisher.pub")).strip();
        JsonObject assembly = Json.createObjectBuilder()
                .add("requirements", Json.createArrayBuilder().add(Json.createObjectBuilder()
                        .add("description", "a transaction type beyond transfers").add("namespace", "osgi.service")
                        .add("filter", "(objectClass=org.commonweal.ledger.PayloadType)")))
                .add("repositories", Json.createArrayBuilder().add("../../repo"))
                .add("trust", Json.createObjectBuilder().add("publishers", Json.createArrayBuilder()
                        .add(Json.createObjectBuilder().add("name", "build").add("key", devKey)
                                .add("bundles", Json.createArrayBuilder().add("*")))
                        .add(Json.createObjectBuilder().add("name", "memo author").add("key", authorKey)
                                .add("bundles", Json.createArrayBuilder().add("org.example.*")))))
                .build();
        JsonObject extensions = Json.createObjectBuilder(dev.getJsonObject("extensions")).add("commonweal-assembly",
                Json.createObjectBuilder().add("type", "json").add("kind", "mandatory").add("json", assembly)).build();
        JsonObject feature = Json.createObjectBuilder(dev).add("id", "org.example:memo-node:1.0.0").add("name", "memo-node")
                .add("extensions", extensions).build();
        Path dist = work.resolve("distributions/memo-node");
        Files.createDirectories(dist);
        Files.writeString(dist.resolve("feature.json"), feature.toString());
        String assembled = PublishAndAssembleIT.run("assemble", dist.toString(), "--out", work.resolve("out").toString());
        assertTrue(assembled, assembled.contains("lock file written"));

        int port = DevDistribution.freePort();
        Path data = work.resolve("data");
        List<String> command = List.of(work.resolve("out/memo-node/bin/cw-node").toString(), "--port", Integer.toString(port),
                "--data", data.toString());
        try (CwProcess node = CwProcess.run(Map.of("JAVA_HOME", System.getProperty("java.home")), command)) {
            assertEquals(200, CwNodeIT.awaitHealthy(node, port).statusCode());
            PrivateKey key = KeyFiles.read(data.resolve("node.key"), null); // the dev genesis funds the node key
            JsonObject chain = Json.createReader(new StringReader(CwNodeIT.get(port, "/api/chain").body())).readObject();
            int chainId = chain.getInt("chainId");

            HttpResponse<String> memo = post(port, TransactionCodec.encode(TransactionCodec.sign(key, chainId, 0, 1, 100,
                    "hello from an extension bundle".getBytes(StandardCharsets.UTF_8))));
            assertEquals(memo.body(), 200, memo.statusCode());
            assertTrue(memo.body(), memo.body().contains("\"committed\""));

            HttpResponse<String> tooLong = post(port, TransactionCodec.encode(TransactionCodec.sign(key, chainId, 1, 1, 100,
                    new byte[141])));
            assertEquals(tooLong.body(), 400, tooLong.statusCode());
            assertTrue(tooLong.body(), tooLong.body().contains("INVALID_PAYLOAD") && tooLong.body().contains("1..140"));
            node.terminate();
            assertEquals(node.output(), 0, node.exitCode(60));
        }
    }

    private static HttpResponse<String> post(int port, byte[] tx) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/api/chain/transactions?wait=20")).header("Content-Type", "application/octet-stream")
                .timeout(Duration.ofSeconds(40)).POST(HttpRequest.BodyPublishers.ofByteArray(tx)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
