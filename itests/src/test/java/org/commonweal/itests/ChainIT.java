package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

import javax.inject.Inject;

import org.commonweal.chain.Chain;
import org.commonweal.crypto.InclusionProof;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Account;
import org.commonweal.ledger.AccountProof;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.BlockHeader;
import org.commonweal.ledger.PayloadType;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.StateChanges;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.ledger.Transfer;
import org.commonweal.node.api.NodeIdentity;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The chain in the dev distribution: the solo engine commits what the HTTP API receives; blocks,
 * transactions and proven accounts come back over HTTP; bad requests get reason codes; a payload type
 * registered by another bundle is executed.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ChainIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();

    @Inject
    private BundleContext context;

    @Inject
    private Chain chain;

    @Inject
    private NodeIdentity identity;

    @Configuration
    public Option[] configuration() {
        return DevDistribution.paxExamOptions(DevDistribution.workFolder("chain"), DevDistribution.freePort());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + context.getProperty("org.osgi.service.http.port") + path);
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return HttpClient.newHttpClient().send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return send(HttpRequest.newBuilder(uri(path)));
    }

    private HttpResponse<String> post(byte[] body, String type, String query) throws Exception {
        return send(HttpRequest.newBuilder(uri("/api/chain/transactions" + query)).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /** A transaction signed by the node key (which holds the dev genesis balance). */
    private Transaction signed(int chainId, long nonce, long fee, int type, byte[] payload) {
        PublicKey sender = PublicKey.of(identity.publicKey());
        return new Transaction(chainId, sender, nonce, fee, type, payload,
                identity.sign(TransactionCodec.signingBytes(chainId, sender, nonce, fee, type, payload)));
    }

    private Transaction transfer(long nonce, long amount) {
        return signed(chain.chainId(), nonce, 1, Transfer.TYPE, new Transfer(PublicKey.of(new byte[32]), amount).encode());
    }

    private long nonce() {
        return chain.account(PublicKey.of(identity.publicKey())).nonce();
    }

    @Test
    public void transactionsGoInOverHttpAndBlocksTransactionsAndProvenAccountsComeBack() throws Exception {
        long nonce = nonce();
        Transaction binary = transfer(nonce, 100);
        HttpResponse<String> response = post(TransactionCodec.encode(binary), "application/octet-stream", "?wait=20");
        assertEquals(response.body(), 200, response.statusCode());
        JsonNode committed = JSON.readTree(response.body());
        assertEquals("committed", committed.get("status").asText());

        Transaction asJson = transfer(nonce + 1, 200);
        String body = JSON.createObjectNode().put("chainId", asJson.chainId()).put("sender", asJson.sender().hex())
                .put("nonce", asJson.nonce()).put("fee", asJson.fee()).put("payloadType", asJson.payloadType())
                .put("payload", HEX.formatHex(asJson.payload())).put("signature", HEX.formatHex(asJson.signature())).toString();
        response = post(body.getBytes(StandardCharsets.UTF_8), "application/json", "?wait=20");
        assertEquals(response.body(), 200, response.statusCode());
        long height = JSON.readTree(response.body()).get("height").asLong();

        JsonNode tx = JSON.readTree(get("/api/chain/transactions/" + HEX.formatHex(asJson.id())).body());
        assertEquals("committed", tx.get("status").asText());
        assertEquals(200, tx.get("transaction").get("transfer").get("amount").asLong());

        JsonNode block = JSON.readTree(get("/api/chain/blocks/" + height).body());
        assertTrue(block.get("transactions").toString().contains(HEX.formatHex(asJson.id())));
        assertEquals("solo", block.get("certificate").get("engine").asText());
        assertEquals(block.toString(), JSON.readTree(get("/api/chain/blocks/" + block.get("hash").asText()).body()).toString());
        HttpResponse<byte[]> raw = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri("/api/chain/blocks/" + height))
                .header("Accept", "application/octet-stream").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(chain.block(height).orElseThrow(), Block.decode(raw.body()));

        JsonNode account = JSON.readTree(get("/api/chain/accounts/" + asJson.sender().hex()).body());
        BlockHeader head = BlockHeader.decode(ByteBuffer.wrap(HEX.parseHex(account.get("head").get("encoded").asText())));
        AccountProof proof = new AccountProof(asJson.sender(), new Account(account.get("balance").asLong(),
                account.get("nonce").asLong()), InclusionProof.decode(HEX.parseHex(account.get("proof").get("encoded").asText())));
        assertTrue(proof.verifies(head.stateRoot(), head.accountCount()));
        assertEquals(nonce + 2, account.get("nonce").asLong());
    }

    @Test
    public void badRequestsGetTheirReasonAndChangeNothing() throws Exception {
        BlockHeader before = chain.head();
        long nonce = nonce();
        Transaction good = transfer(nonce, 1);
        byte[] forged = TransactionCodec.encode(good);
        forged[forged.length - 1] ^= 1;
        assertReason("BAD_SIGNATURE", post(forged, "application/octet-stream", ""));
        assertReason("MALFORMED", post(new byte[] { 1, 2, 3 }, "application/octet-stream", ""));
        assertReason("MALFORMED", post("{\"chainId\": 1".getBytes(StandardCharsets.UTF_8), "application/json", ""));
        assertReason("MALFORMED", post("{\"chainId\": 1}".getBytes(StandardCharsets.UTF_8), "application/json", ""));
        assertReason("WRONG_CHAIN", post(TransactionCodec.encode(signed(chain.chainId() + 1, nonce, 1, Transfer.TYPE,
                new Transfer(PublicKey.of(new byte[32]), 1).encode())), "application/octet-stream", ""));
        assertReason("INSUFFICIENT_FUNDS", post(TransactionCodec.encode(transfer(nonce, Long.MAX_VALUE - 10)), "application/octet-stream", ""));
        assertReason("UNKNOWN_PAYLOAD_TYPE", post(TransactionCodec.encode(signed(chain.chainId(), nonce, 1, 4242, new byte[1])),
                "application/octet-stream", ""));
        assertReason("OVERSIZED", post(new byte[200_000], "application/octet-stream", ""));
        assertReason("UNSUPPORTED_MEDIA_TYPE", post(new byte[1], "text/plain", ""));
        if (nonce > 0) {
            assertReason("NONCE_REPLAYED", post(TransactionCodec.encode(transfer(nonce - 1, 1)), "application/octet-stream", ""));
        }
        assertReason("BAD_REQUEST", get("/api/chain/transactions/xyz"));
        assertReason("BAD_REQUEST", get("/api/chain/accounts/1234"));
        assertReason("NOT_FOUND", get("/api/chain/blocks/99999999"));
        assertReason("NOT_FOUND", get("/api/chain/nowhere"));
        assertEquals(before, chain.head());
        assertEquals(nonce, nonce());
    }

    private static void assertReason(String reason, HttpResponse<String> response) throws Exception {
        assertTrue(response.statusCode() + " " + response.body(), response.statusCode() >= 400);
        JsonNode body = JSON.readTree(response.body());
        assertEquals(response.body(), reason, body.get("error").asText());
        assertTrue(response.body(), body.get("message").asText().length() > 10);
    }

    @Test
    public void theStreamSendsEveryCommittedBlock() throws Exception {
        long from = chain.head().height();
        HttpResponse<InputStream> stream = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri("/api/chain/stream?from=" + from))
                .build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals("text/event-stream;charset=utf-8", stream.headers().firstValue("Content-Type").orElse("").toLowerCase().replace(" ", ""));
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
            Transaction tx = transfer(nonce(), 3);
            assertEquals(202, post(TransactionCodec.encode(tx), "application/octet-stream", "").statusCode());
            String line;
            String id = null;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith("id: ")) {
                    id = line.substring(4);
                }
                if (line.startsWith("data: ")) {
                    JsonNode block = JSON.readTree(line.substring(6));
                    assertEquals(Long.parseLong(id), block.get("height").asLong());
                    if (block.get("transactions").toString().contains(HEX.formatHex(tx.id()))) {
                        assertTrue(block.get("height").asLong() > from);
                        return;
                    }
                }
            }
        }
        throw new AssertionError("the stream ended before the block with the transaction");
    }

    /** A payload type from another bundle (this test's probe): refused before it is registered, executed after. */
    @Test
    public void aPayloadTypeRegisteredAsAServiceIsExecuted() throws Exception {
        PayloadType memo = new PayloadType() {
            @Override
            public int id() {
                return 500;
            }

            @Override
            public String name() {
                return "memo";
            }

            @Override
            public void execute(Transaction tx, StateChanges changes) throws Rejection {
                if (tx.payload().length == 0 || tx.payload().length > 64) {
                    throw new Rejection(Rejection.Reason.INVALID_PAYLOAD, "a memo has 1..64 bytes");
                }
            }
        };
        byte[] text = "hello from another bundle".getBytes(StandardCharsets.UTF_8);
        assertReason("UNKNOWN_PAYLOAD_TYPE", post(TransactionCodec.encode(signed(chain.chainId(), nonce(), 1, 500, text)),
                "application/octet-stream", ""));
        ServiceRegistration<PayloadType> registration = context.registerService(PayloadType.class, memo, null);
        try {
            assertReason("INVALID_PAYLOAD", post(TransactionCodec.encode(signed(chain.chainId(), nonce(), 1, 500, new byte[65])),
                    "application/octet-stream", ""));
            HttpResponse<String> response = post(TransactionCodec.encode(signed(chain.chainId(), nonce(), 1, 500, text)),
                    "application/octet-stream", "?wait=20");
            assertEquals(response.body(), 200, response.statusCode());
        } finally {
            registration.unregister();
        }
        assertReason("UNKNOWN_PAYLOAD_TYPE", post(TransactionCodec.encode(signed(chain.chainId(), nonce(), 1, 500, text)),
                "application/octet-stream", ""));
    }
}
