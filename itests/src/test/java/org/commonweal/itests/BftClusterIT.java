package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.ledger.Transfer;
import org.junit.Test;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

/**
 * Black box: four validators as separate {@code cw node} processes on loopback, running the BFT engine over
 * the validator network. Transactions sent to different nodes are committed by all; one validator is
 * SIGKILLed while transactions flow and the other three go on; restarted, it catches up; every node has the
 * same block at every height (no fork) and every transaction reported committed is there.
 */
public class BftClusterIT {

    private static final int CHAIN = 4242;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private static PrivateKey key(int i) {
        byte[] seed = new byte[32];
        seed[0] = (byte) i;
        seed[9] = 99;
        return Ed25519.fromSeed(seed);
    }

    private static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject json(HttpResponse<String> response) {
        return json(response.body());
    }

    private static JsonObject json(String text) {
        return Json.createReader(new StringReader(text)).readObject();
    }

    private static void submit(int port, Transaction tx) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/api/chain/transactions")).header("Content-Type", "application/octet-stream").timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofByteArray(TransactionCodec.encode(tx))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(response.body(), 202, response.statusCode());
    }

    private static void awaitCommitted(int port, List<Transaction> txs) throws Exception {
        long deadline = System.currentTimeMillis() + 90_000;
        for (Transaction tx : txs) {
            String id = HexFormat.of().formatHex(tx.id());
            while (true) {
                HttpResponse<String> response = get(port, "/api/chain/transactions/" + id);
                if (response.statusCode() == 200 && json(response).getString("status").equals("committed")) {
                    break;
                }
                assertTrue("node on port " + port + " committed " + id + " within 90 s", System.currentTimeMillis() < deadline);
                Thread.sleep(50);
            }
        }
    }

    /** Checks that every node holds the same block at every height they all reached (no fork); returns that height. */
    private static long assertSameBlocks(int[] httpPorts) throws Exception {
        long height = Long.MAX_VALUE;
        for (int port : httpPorts) {
            height = Math.min(height, json(get(port, "/api/chain")).getJsonObject("head").getJsonNumber("height").longValue());
        }
        for (long h = 1; h <= height; h++) {
            String hash = json(get(httpPorts[0], "/api/chain/blocks/" + h)).getString("hash");
            for (int i = 1; i < httpPorts.length; i++) {
                assertEquals("block " + h + " on nodes 0 and " + i, hash,
                        json(get(httpPorts[i], "/api/chain/blocks/" + h)).getString("hash"));
            }
        }
        return height;
    }

    /** Four validators' keys (from {@code firstKey}), free ports and data folders with their node keys. */
    private record Nodes(List<PrivateKey> validators, int[] bftPorts, int[] httpPorts, Path[] data) {

        static Nodes prepare(String folder, int firstKey) throws IOException {
            Nodes nodes = new Nodes(List.of(key(firstKey), key(firstKey + 1), key(firstKey + 2), key(firstKey + 3)),
                    new int[4], new int[4], new Path[4]);
            for (int i = 0; i < 4; i++) {
                nodes.bftPorts[i] = DevDistribution.freePort();
                nodes.httpPorts[i] = DevDistribution.freePort();
                nodes.data[i] = DevDistribution.workFolder(folder + i);
                KeyFiles.write(nodes.data[i].resolve("node.key"), nodes.validators.get(i), null);
            }
            return nodes;
        }

        /** Starts the four nodes on {@code dist} into {@code processes} and waits until each is healthy. */
        void start(Path dist, CwProcess[] processes) throws Exception {
            for (int i = 0; i < 4; i++) {
                processes[i] = CwProcess.start("node", "--dist", dist.toString(), "--port", Integer.toString(httpPorts[i]),
                        "--data", data[i].toString());
            }
            for (int i = 0; i < 4; i++) {
                CwNodeIT.awaitHealthy(processes[i], httpPorts[i]);
            }
        }
    }

    @Test
    public void fourValidatorProcessesAgreeAndOneKilledAndRestartedCatchesUp() throws Exception {
        Nodes network = Nodes.prepare("bft-node-", 1);
        List<PrivateKey> validators = network.validators();
        PrivateKey user = key(50);
        int[] bftPorts = network.bftPorts();
        int[] httpPorts = network.httpPorts();
        Path[] data = network.data();
        Path dist = org.commonweal.launcher.BftDistribution.write(DevDistribution.directory(),
                org.commonweal.launcher.BftDistribution.engineJar(DevDistribution.home()), DevDistribution.workFolder("bft-dist"),
                CHAIN, user.publicKey(), 1_000_000_000L, validators.stream().map(PrivateKey::publicKey).toList(), bftPorts);
        CwProcess[] nodes = new CwProcess[4];
        try {
            network.start(dist, nodes);
            long nonce = 0;
            List<Transaction> first = new ArrayList<>();
            for (int n = 0; n < 12; n++) {
                Transaction tx = TransactionCodec.sign(user, CHAIN, nonce++, 1, Transfer.TYPE,
                        new Transfer(key(60 + n).publicKey(), 5).encode());
                first.add(tx);
                submit(httpPorts[0], tx); // one client, one node: the quorum store spreads it
            }
            for (int i = 0; i < 4; i++) {
                awaitCommitted(httpPorts[i], first);
            }

            List<Transaction> second = new ArrayList<>();
            for (int n = 0; n < 12; n++) {
                if (n == 6) {
                    nodes[3].kill(); // while transactions flow
                }
                Transaction tx = TransactionCodec.sign(user, CHAIN, nonce++, 1, Transfer.TYPE,
                        new Transfer(key(80 + n).publicKey(), 5).encode());
                second.add(tx);
                submit(httpPorts[1], tx);
            }
            for (int i = 0; i < 3; i++) {
                awaitCommitted(httpPorts[i], second);
            }

            nodes[3] = CwProcess.start("node", "--dist", dist.toString(), "--port", Integer.toString(httpPorts[3]), "--data",
                    data[3].toString());
            CwNodeIT.awaitHealthy(nodes[3], httpPorts[3]);
            awaitCommitted(httpPorts[3], second);

            assertTrue("blocks committed", assertSameBlocks(httpPorts) >= 2);
            assertEquals("bft", json(get(httpPorts[2], "/api/chain")).getString("engine"));
        } finally {
            for (CwProcess node : nodes) {
                if (node != null) {
                    node.close();
                }
            }
        }
    }

    /**
     * Issue #5, point 3: an operator upgrades the consensus engine of one running validator with {@code cw upgrade} (a
     * new version of the BFT engine from a signed repository) while transactions flow. The engine stops and starts from
     * its persisted safety state and the last committed block; the network goes on, the upgraded validator takes part
     * again (a third of the transactions after the upgrade are sent to it alone, and only its quorum store can batch
     * them), and every node holds the same block at every height: no fork.
     */
    @Test
    public void aValidatorUpgradesItsEngineWhileTheNetworkRunsWithoutAFork() throws Exception {
        Nodes network = Nodes.prepare("bft-upgrade-node-", 30);
        List<PrivateKey> validators = network.validators();
        PrivateKey user = key(51);
        int[] httpPorts = network.httpPorts();
        Path work = DevDistribution.workFolder("bft-upgrade");
        Path engine = org.commonweal.launcher.BftDistribution.engineJar(DevDistribution.home());
        Path dist = org.commonweal.launcher.BftDistribution.write(DevDistribution.directory(), engine,
                work.resolve("dist"), CHAIN, user.publicKey(), 1_000_000_000L,
                validators.stream().map(PrivateKey::publicKey).toList(), network.bftPorts());
        // The engine's next version in a repository signed by its publisher, whom the distribution trusts for it.
        String bft = "org.commonweal.consensus.bft";
        PrivateKey publisher = key(52);
        PrivateKey operator = key(53);
        Path operatorKey = work.resolve("operator.key");
        KeyFiles.write(operatorKey, operator, null);
        Path repo = work.resolve("repo");
        java.nio.file.Files.createDirectories(work.resolve("jars"));
        org.commonweal.repo.LocalRepository.at(repo).publish(List.of(RevisedBundles.revised(engine, work.resolve("jars"),
                bft, "0.1.1", java.util.Map.of())), publisher);
        JsonObject feature = json(java.nio.file.Files.readString(dist.resolve("feature.json")));
        JsonObject assembly = Json.createObjectBuilder().add("repositories", Json.createArrayBuilder().add(repo.toString()))
                .add("trust", Json.createObjectBuilder().add("publishers", Json.createArrayBuilder()
                        .add(Json.createObjectBuilder().add("name", "engine publisher").add("key", publisher.publicKey().hex())
                                .add("bundles", Json.createArrayBuilder().add(bft))))).build();
        java.nio.file.Files.writeString(dist.resolve("feature.json"), Json.createObjectBuilder(feature)
                .add("configurations", Json.createObjectBuilder(feature.getJsonObject("configurations"))
                        .add("org.commonweal.management", Json.createObjectBuilder()
                                .add("operators", Json.createArrayBuilder().add("operator=" + operator.publicKey().hex()))
                                .add("repositories", Json.createArrayBuilder().add(repo.toString()))))
                .add("extensions", Json.createObjectBuilder(feature.getJsonObject("extensions")).add("commonweal-assembly",
                        Json.createObjectBuilder().add("type", "json").add("kind", "mandatory").add("json", assembly)))
                .build().toString());
        CwProcess[] nodes = new CwProcess[4];
        try {
            network.start(dist, nodes);
            long nonce = 0;
            List<Transaction> sent = new ArrayList<>();
            String upgraded = null;
            for (int n = 0; n < 24; n++) {
                if (n == 8) {
                    try (CwProcess upgrade = CwProcess.start("upgrade", bft + "@0.1.1", "--node", "http://127.0.0.1:"
                            + httpPorts[1], "--key", operatorKey.toString())) {
                        assertEquals(upgrade.output(), 0, upgrade.exitCode(120));
                        upgraded = upgrade.output();
                    }
                }
                Transaction tx = TransactionCodec.sign(user, CHAIN, nonce++, 1, Transfer.TYPE,
                        new Transfer(key(100 + n).publicKey(), 5).encode());
                sent.add(tx);
                submit(httpPorts[n % 4], tx);
            }
            System.out.println("upgrade of validator 1's BFT engine while the network runs:\n" + upgraded);
            assertTrue(upgraded, upgraded.contains("upgraded: " + bft + " 0.1.1"));
            assertTrue("the engine alone is refreshed:\n" + upgraded, upgraded.contains("refresh (1): " + bft));
            for (int i = 0; i < 4; i++) {
                awaitCommitted(httpPorts[i], sent);
            }
            assertSameBlocks(httpPorts);
            for (JsonValue b : json(get(httpPorts[1], "/api/node")).getJsonArray("bundles")) {
                if (b.asJsonObject().getString("symbolicName").equals(bft)) {
                    assertEquals("0.1.1", b.asJsonObject().getString("version"));
                }
            }
            assertEquals("bft", json(get(httpPorts[1], "/api/chain")).getString("engine"));
        } finally {
            for (CwProcess node : nodes) {
                if (node != null) {
                    node.close();
                }
            }
        }
    }

    /**
     * A network that starts solo and hands over to BFT at an agreed height: node 0 sequences blocks 1 to 3, the other
     * three follow it over its chain API (checking the sequencer's signature), and from block 4 on all four agree by
     * BFT. Every node holds the same blocks, solo's certificates below the handover and BFT's from it on.
     */
    @Test
    public void aNetworkRunningSoloHandsOverToBftAtTheAgreedHeight() throws Exception {
        Nodes network = Nodes.prepare("handover-node-", 5);
        List<PrivateKey> validators = network.validators();
        PrivateKey user = key(51);
        int[] bftPorts = network.bftPorts();
        int[] httpPorts = network.httpPorts();
        Path[] data = network.data();
        long bftFrom = 4;
        Path dist = org.commonweal.launcher.BftDistribution.write(DevDistribution.directory(),
                org.commonweal.launcher.BftDistribution.engineJar(DevDistribution.home()),
                DevDistribution.workFolder("handover-dist"), CHAIN, java.util.Map.of(user.publicKey(), 1_000_000_000L),
                validators.stream().map(PrivateKey::publicKey).toList(), bftPorts,
                new org.commonweal.launcher.BftDistribution.SoloFirst(bftFrom, validators.get(0).publicKey(),
                        "http://127.0.0.1:" + httpPorts[0]));
        CwProcess[] nodes = new CwProcess[4];
        try {
            network.start(dist, nodes);
            long nonce = 0;
            List<Transaction> solo = new ArrayList<>();
            for (int n = 0; n < bftFrom - 1; n++) { // one block each: the sequencer commits one before the next arrives
                Transaction tx = TransactionCodec.sign(user, CHAIN, nonce++, 1, Transfer.TYPE,
                        new Transfer(key(100 + n).publicKey(), 5).encode());
                solo.add(tx);
                submit(httpPorts[0], tx);
                awaitCommitted(httpPorts[0], List.of(tx));
            }
            for (int i = 1; i < 4; i++) {
                awaitCommitted(httpPorts[i], solo); // the followers read them from node 0
            }
            List<Transaction> bft = new ArrayList<>();
            for (int n = 0; n < 6; n++) {
                Transaction tx = TransactionCodec.sign(user, CHAIN, nonce++, 1, Transfer.TYPE,
                        new Transfer(key(120 + n).publicKey(), 5).encode());
                bft.add(tx);
                submit(httpPorts[2], tx);
            }
            for (int i = 0; i < 4; i++) {
                awaitCommitted(httpPorts[i], bft);
            }
            long height = assertSameBlocks(httpPorts);
            assertTrue("blocks committed: " + height, height >= bftFrom);
            for (long h = 1; h <= height; h++) {
                assertEquals("the engine of block " + h, h < bftFrom ? "solo" : "bft", json(get(httpPorts[0],
                        "/api/chain/blocks/" + h)).getJsonObject("certificate").getString("engine"));
            }
            for (int i = 0; i < 4; i++) {
                assertEquals("bft", json(get(httpPorts[i], "/api/chain")).getString("engine"));
            }
        } finally {
            for (CwProcess node : nodes) {
                if (node != null) {
                    node.close();
                }
            }
        }
    }
}
