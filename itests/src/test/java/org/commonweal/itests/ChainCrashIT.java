package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.ledger.Transfer;
import org.junit.Test;

import jakarta.json.Json;
import jakarta.json.JsonObject;

/**
 * Black box: a real {@code ./cw node} SIGKILLed again and again while transactions flow. After every
 * restart, every transaction the API had reported committed is still committed at the same height,
 * and every block seen before (its hash covers the state root) is identical.
 */
public class ChainCrashIT {

    private static final int ROUNDS = 5;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    public void aNodeKilledWhileCommittingLosesNothingItReportedCommitted() throws Exception {
        int port = DevDistribution.freePort();
        Path data = DevDistribution.workFolder("chain-crash");
        SplittableRandom random = new SplittableRandom(17);
        Map<String, Long> committed = new ConcurrentHashMap<>();
        Map<Long, String> blockHashes = new ConcurrentHashMap<>();
        for (int round = 0; round <= ROUNDS; round++) {
            try (CwProcess node = CwProcess.start("node", "--port", Integer.toString(port), "--data", data.toString())) {
                CwNodeIT.awaitHealthy(node, port);
                for (Map.Entry<String, Long> tx : committed.entrySet()) {
                    JsonObject status = json(get(port, "/api/chain/transactions/" + tx.getKey()));
                    assertEquals("round " + round + ": transaction " + tx.getKey(), "committed", status.getString("status"));
                    assertEquals(tx.getValue().longValue(), status.getJsonNumber("height").longValue());
                }
                for (Map.Entry<Long, String> block : blockHashes.entrySet()) {
                    assertEquals("round " + round + ": block " + block.getKey(), block.getValue(),
                            json(get(port, "/api/chain/blocks/" + block.getKey())).getString("hash"));
                }
                if (round == ROUNDS) {
                    break;
                }
                PrivateKey key = KeyFiles.read(data.resolve("node.key"), null);
                int chainId = json(get(port, "/api/chain")).getInt("chainId");
                long nonce = json(get(port, "/api/chain/accounts/" + key.publicKey().hex())).getJsonNumber("nonce").longValue();
                java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
                Thread submitter = Thread.ofPlatform().start(() -> {
                    try {
                        submitUntilDead(port, key, chainId, nonce, committed, blockHashes);
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
                Thread.sleep(800 + random.nextInt(1_500));
                node.kill();
                submitter.join(30_000);
                if (failure.get() != null) {
                    throw new AssertionError("round " + round + ": the client failed before the kill", failure.get());
                }
            }
        }
        assertTrue("transactions were committed between the kills: " + committed.size(), committed.size() >= 2 * ROUNDS);
    }

    /** Submits transfers and records each once the API reports it committed, until the node dies. */
    private static void submitUntilDead(int port, PrivateKey key, int chainId, long firstNonce, Map<String, Long> committed,
            Map<Long, String> blockHashes) {
        Map<String, Boolean> pending = new LinkedHashMap<>();
        long nonce = firstNonce;
        try {
            while (true) {
                for (int i = 0; i < 20; i++) {
                    PublicKey to = PublicKey.of(HexFormat.of().parseHex(String.format("%064x", nonce + 1)));
                    Transaction tx = TransactionCodec.sign(key, chainId, nonce++, 1, Transfer.TYPE, new Transfer(to, 5).encode());
                    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/api/chain/transactions"))
                            .header("Content-Type", "application/octet-stream").timeout(Duration.ofSeconds(10))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(TransactionCodec.encode(tx))).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(response.body(), 202, response.statusCode());
                    pending.put(HexFormat.of().formatHex(tx.id()), true);
                }
                while (!pending.isEmpty()) { // the batch commits before the next: the mempool takes 64 nonces ahead
                    for (var it = pending.keySet().iterator(); it.hasNext();) {
                        String id = it.next();
                        JsonObject status = json(get(port, "/api/chain/transactions/" + id));
                        if (status.getString("status").equals("committed")) {
                            long height = status.getJsonNumber("height").longValue();
                            blockHashes.put(height, status.getString("blockHash"));
                            committed.put(id, height);
                            it.remove();
                        }
                    }
                    Thread.sleep(20);
                }
            }
        } catch (java.io.IOException | InterruptedException dead) {
            // the node was killed: what was recorded is what the API had reported committed
        }
    }

    private static HttpResponse<String> get(int port, String path) throws java.io.IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject json(HttpResponse<String> response) {
        return Json.createReader(new StringReader(response.body())).readObject();
    }
}
