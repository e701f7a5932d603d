package org.commonweal.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;

import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.NationCode;
import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealCipher;
import org.commonweal.benefit.RevealedRequest;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.Sha256;
import org.commonweal.ledger.Transfer;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Receipts from the OpenAI endpoint on a node booted by the launcher (as {@code cw node}), over HTTP only: a registered
 * person's seeded chat request gets the node's receipt, the person countersigns it and posts it back, the node claims
 * it and, sampled, reveals the request by itself to the auditor played by this test, which opens the reveal (the
 * request and output the receipt commits to) and attests the match: the audit passes and the node holds its reward.
 */
public class LaunchedNodeReceiptsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final NationCode DEV = new NationCode("dev");
    private static final PrivateKey REGISTRY = key("registry");
    private static final PrivateKey PERSON = key("person");
    private static final PrivateKey AUDITOR = key("auditor");

    private static PrivateKey key(String name) {
        return Ed25519.fromSeed(Sha256.hash(("launched-node-receipts-it/" + name).getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    public void aPersonsEndpointReceiptIsClaimedRevealedAndAuditedOnALaunchedNode() throws Exception {
        Path distribution = BenefitRestartIT.distributionWithBenefit("launched-receipts-dist", REGISTRY, Map.of(
                "audit.sampleRate", 1_000_000L, "stake.minimum", 1_000L, "audit.revealBlocks", 10L,
                "audit.attestBlocks", 10L, "audit.disputeBlocks", 2L));
        ObjectNode feature = (ObjectNode) JSON.readTree(distribution.resolve("feature.json").toFile());
        ((ObjectNode) feature.get("configurations")).putObject("org.commonweal.benefit.serving").put("claim.delay.ms", 0);
        JSON.writerWithDefaultPrettyPrinter().writeValue(distribution.resolve("feature.json").toFile(), feature);
        Path data = DevDistribution.workFolder("launched-receipts");
        try (BenefitRestartIT.Running node = new BenefitRestartIT.Running(distribution, data)) {
            PrivateKey nodeKey = KeyFiles.read(data.resolve("node.key"), null);
            String nodeHex = nodeKey.publicKey().hex();
            node.commit(node.sign(nodeKey, Transfer.TYPE, new Transfer(AUDITOR.publicKey(), 5_000).encode()));
            for (PrivateKey registered : new PrivateKey[] {nodeKey, AUDITOR}) {
                node.commit(node.sign(REGISTRY, BenefitPayloads.NODE, new BenefitPayloads.NodeRegistration(DEV,
                        registered.publicKey()).encode()));
            }
            node.commit(node.sign(REGISTRY, BenefitPayloads.PERSON, new BenefitPayloads.PersonAttestation(DEV,
                    PERSON.publicKey(), Sha256.hash(new byte[] {7})).encode()));
            node.commit(node.sign(AUDITOR, BenefitPayloads.STAKE, new BenefitPayloads.Stake(2_000).encode()));
            byte[] auditSecret = RevealCipher.auditSecret(AUDITOR.sign(RevealCipher.AUDIT_KEY_MESSAGE));
            node.commit(node.sign(AUDITOR, BenefitPayloads.AUDIT_KEY, new BenefitPayloads.AuditKey(
                    RevealCipher.publicKey(auditSecret)).encode()));
            node.commit(node.sign(nodeKey, BenefitPayloads.STAKE, new BenefitPayloads.Stake(1_500).encode()));
            // the node's own auditor publishes its audit key with the node key: from here on only the node signs with it
            await("the node's audit key", () -> !node.get("/api/benefit/nodes/" + nodeHex).get("auditKey").isNull());

            // the person asks, with a seed and their key; the client countersigns the receipt and posts it back
            HttpResponse<String> reply = post(node, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\","
                    + " \"content\": \"Habari?\"}], \"seed\": 11, \"max_tokens\": 10}", PERSON.publicKey().hex());
            assertEquals(reply.body(), 200, reply.statusCode());
            JsonNode issued = JSON.readTree(reply.body()).get("commonweal_receipt");
            Receipt receipt = Receipt.decode(HexFormat.of().parseHex(issued.get("receipt").asText()));
            String id = issued.get("id").asText();
            assertEquals(nodeKey.publicKey(), receipt.node());
            // the person's client: cw benefit countersign, with the person's key file
            java.nio.file.Path personKey = DevDistribution.workFolder("receipts-person").resolve("person.key");
            KeyFiles.write(personKey, PERSON, null);
            try (CwProcess cw = CwProcess.start("benefit", "countersign", "--key", personKey.toString(), "--receipt",
                    issued.get("receipt").asText(), "--node", node.url())) {
                assertEquals(cw.output(), 0, cw.exitCode(60));
                assertTrue(cw.output(), cw.output().contains("countersigned receipt " + id));
            }
            // given back twice: the same answer
            HttpResponse<String> accepted = post(node, issued.get("countersign").asText(), "{\"receipt\": \""
                    + HexFormat.of().formatHex(receipt.countersignedBy(PERSON).encode()) + "\"}", null);
            assertEquals(accepted.body(), 200, accepted.statusCode());

            // claimed by the node itself; the next block samples it; the node reveals it by itself
            String person = "/api/benefit/persons/" + PERSON.publicKey().hex() + "?day=" + receipt.day();
            await("the node's claim", () -> node.get(person).get("tokensUsed").asLong() == receipt.tokens());
            node.commit(node.sign(AUDITOR, Transfer.TYPE, new Transfer(REGISTRY.publicKey(), 1).encode()));
            assertEquals(AUDITOR.publicKey().hex(), node.get("/api/benefit/audits/" + id).get("auditor").asText());
            await("the node's reveal", () -> node.get("/api/benefit/audits/" + id).get("phase").asText().equals("REVEALED"));

            // the auditor reads the sealed reveal from the chain, opens it, and attests the match
            BenefitState.Audit audit = BenefitState.Audit.decode(receipt.id(), entry(node, BenefitState.AUDIT,
                    receipt.id()));
            ByteBuffer sealed = ByteBuffer.allocate(audit.sealedLength());
            for (int part = 0; part * BenefitState.REVEAL_PART < audit.sealedLength(); part++) {
                sealed.put(entry(node, BenefitState.REVEAL, BenefitState.revealKey(receipt.id(), part)));
            }
            RevealedRequest request = RevealedRequest.decode(RevealCipher.open(auditSecret, receipt.id(), sealed.array()));
            assertArrayEquals(receipt.requestCommitment(), request.commitment());
            assertArrayEquals(receipt.outputHash(), request.outputHash());
            assertEquals(receipt.completionTokens(), request.output().length);
            node.commit(node.sign(AUDITOR, BenefitPayloads.ATTEST, new BenefitPayloads.Attestation(receipt.id(),
                    BenefitPayloads.Verdict.MATCH, request.outputHash()).encode()));
            JsonNode record = node.get("/api/benefit/nodes/" + nodeHex);
            assertEquals(record.toString(), 1, record.get("auditsPassed").asLong());
            assertTrue(record.toString(), record.get("held").asLong() > 0);
        }
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private static void await(String what, Check check) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (!check.ok()) {
            assertTrue("not within 60 s: " + what, System.currentTimeMillis() < deadline);
            Thread.sleep(100);
        }
    }

    private static byte[] entry(BenefitRestartIT.Running node, String namespace, byte[] key) throws Exception {
        return HexFormat.of().parseHex(node.get("/api/chain/entries/" + namespace + "/" + HexFormat.of().formatHex(key))
                .get("value").asText());
    }

    private static HttpResponse<String> post(BenefitRestartIT.Running node, String path, String json, String person)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(node.url() + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (person != null) {
            request.header("X-Commonweal-Person", person);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
