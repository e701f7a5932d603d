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
        return Json.createReader(new StringReader(response.body())).readObject();
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

            long height = Long.MAX_VALUE;
            for (int i = 0; i < 4; i++) {
                height = Math.min(height, json(get(httpPorts[i], "/api/chain")).getJsonObject("head").getJsonNumber("height")
                        .longValue());
            }
            assertTrue("blocks committed: " + height, height >= 2);
            for (long h = 1; h <= height; h++) {
                String hash = json(get(httpPorts[0], "/api/chain/blocks/" + h)).getString("hash");
                for (int i = 1; i < 4; i++) {
                    assertEquals("block " + h + " on nodes 0 and " + i, hash,
                            json(get(httpPorts[i], "/api/chain/blocks/" + h)).getString("hash"));
                }
            }
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
            long height = Long.MAX_VALUE;
            for (int i = 0; i < 4; i++) {
                height = Math.min(height, json(get(httpPorts[i], "/api/chain")).getJsonObject("head").getJsonNumber("height")
                        .longValue());
            }
            assertTrue("blocks committed: " + height, height >= bftFrom);
            for (long h = 1; h <= height; h++) {
                JsonObject block = json(get(httpPorts[0], "/api/chain/blocks/" + h));
                assertEquals("the engine of block " + h, h < bftFrom ? "solo" : "bft",
                        block.getJsonObject("certificate").getString("engine"));
                for (int i = 1; i < 4; i++) {
                    assertEquals("block " + h + " on nodes 0 and " + i, block.getString("hash"),
                            json(get(httpPorts[i], "/api/chain/blocks/" + h)).getString("hash"));
                }
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
