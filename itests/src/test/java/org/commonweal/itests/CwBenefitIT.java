package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealedRequest;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.Sha256;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The benefit transactions from the command line, against a node booted by the launcher with proof of benefit and
 * every receipt sampled: a registry registers two nodes and attests a person with {@code cw benefit}; the nodes
 * stake; the second publishes its audit key; the first claims a receipt from a file, is sampled with the second as
 * auditor, reveals the request from its JSON, is accused by {@code cw benefit attest} and disputes with the kept
 * secret; a node unstakes into unbonding; refusals exit non-zero naming the reason.
 */
public class CwBenefitIT {

    private static final PrivateKey REGISTRY = key("registry");
    private static final PrivateKey PERSON = key("person");
    private static final PrivateKey OTHER = key("other-node");

    private static PrivateKey key(String name) {
        return Ed25519.fromSeed(Sha256.hash(("cw-benefit-it/" + name).getBytes(StandardCharsets.UTF_8)));
    }

    /** Runs {@code cw benefit ...} (or another cw command) against the node; its output, asserting the exit code. */
    private static String cw(BenefitRestartIT.Running node, int exitCode, String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of(arguments));
        command.addAll(List.of("--node", node.url()));
        try (CwProcess cw = CwProcess.start(command.toArray(String[]::new))) {
            int code = cw.exitCode(60);
            assertEquals("cw " + String.join(" ", command) + ":\n" + cw.output(), exitCode, code);
            return cw.output();
        }
    }

    @Test
    public void aRegistryNodesAndAnAuditorSignBenefitTransactionsWithCw() throws Exception {
        Path distribution = BenefitRestartIT.distributionWithBenefit("cw-benefit-dist", REGISTRY, Map.of(
                "audit.sampleRate", 1_000_000L, "stake.minimum", 1_000L));
        Path data = DevDistribution.workFolder("cw-benefit");
        Path keys = DevDistribution.workFolder("cw-benefit-keys");
        Path registryKey = keys.resolve("registry.key");
        Path otherKey = keys.resolve("other.key");
        KeyFiles.write(registryKey, REGISTRY, null);
        KeyFiles.write(otherKey, OTHER, null);
        try (BenefitRestartIT.Running node = new BenefitRestartIT.Running(distribution, data)) {
            Path nodeKeyFile = data.resolve("node.key");
            PrivateKey nodeKey = KeyFiles.read(nodeKeyFile, null);
            String nodeHex = nodeKey.publicKey().hex();
            String otherHex = OTHER.publicKey().hex();
            cw(node, 0, "tx", "transfer", "--key", nodeKeyFile.toString(), "--to", otherHex, "--amount", "5000");

            String out = cw(node, 0, "benefit", "register-node", "--key", registryKey.toString(), "--nation", "dev",
                    "--node-key", nodeHex);
            assertTrue(out, out.contains("committed in block"));
            cw(node, 0, "benefit", "register-node", "--key", registryKey.toString(), "--nation", "dev", "--node-key", otherHex);
            cw(node, 0, "benefit", "attest-person", "--key", registryKey.toString(), "--nation", "dev", "--person",
                    PERSON.publicKey().hex(), "--tag", HexFormat.of().formatHex(Sha256.hash(new byte[] {7})));
            out = cw(node, 1, "benefit", "attest-person", "--key", registryKey.toString(), "--nation", "dev", "--person",
                    PERSON.publicKey().hex(), "--tag", HexFormat.of().formatHex(Sha256.hash(new byte[] {7})));
            assertTrue(out, out.contains("DUPLICATE"));
            cw(node, 0, "benefit", "stake", "--key", otherKey.toString(), "--amount", "2000");
            cw(node, 0, "benefit", "audit-key", "--key", otherKey.toString());
            cw(node, 0, "benefit", "stake", "--key", nodeKeyFile.toString(), "--amount", "1500");
            // the node's own auditor publishes its audit key with the node key: let it, before signing with that key again
            long deadline = System.currentTimeMillis() + 60_000;
            while (node.get("/api/benefit/nodes/" + nodeHex).get("auditKey").isNull()) {
                assertTrue("the node's auditor did not publish its audit key", System.currentTimeMillis() < deadline);
                Thread.sleep(100);
            }

            // a receipt served by the node, claimed from a file
            RevealedRequest request = new RevealedRequest(new int[] {1, 5, 9}, 0.8f, 40, 0.95f, 0.05f, 1, 64, 0, 0, 16,
                    List.of(), "", new int[] {3, 4});
            Receipt receipt = Receipt.unsigned(1337, nodeKey.publicKey(), PERSON.publicKey(), Sha256.hash(new byte[] {1}),
                    new byte[32], request.commitment(), 5, request.outputHash(), 3, 2, System.currentTimeMillis(), 0)
                    .signedBy(nodeKey).countersignedBy(PERSON);
            String id = HexFormat.of().formatHex(receipt.id());
            Path receipts = keys.resolve("receipts.txt");
            Files.writeString(receipts, "# one receipt per line\n" + HexFormat.of().formatHex(receipt.encode()) + "\n");
            cw(node, 0, "benefit", "claim", "--key", nodeKeyFile.toString(), "--receipts", receipts.toString());
            cw(node, 0, "tx", "transfer", "--key", otherKey.toString(), "--to", REGISTRY.publicKey().hex(), "--amount", "1");
            out = cw(node, 0, "benefit", "audit", id);
            assertTrue(out, out.contains("phase: SAMPLED") && out.contains("auditor: " + otherHex));

            // revealed from the JSON of the request as served; the secret kept for a dispute
            Path json = keys.resolve("request.json");
            Files.writeString(json, """
                    {"prompt": [1, 5, 9], "temperature": 0.8, "topK": 40, "topP": 0.95, "minP": 0.05, "repeatPenalty": 1,
                     "repeatLastN": 64, "maxTokens": 16, "output": [3, 4]}
                    """);
            Path secret = keys.resolve("reveal.secret");
            cw(node, 0, "benefit", "reveal", "--key", nodeKeyFile.toString(), "--receipt", id, "--request", json.toString(),
                    "--secret-out", secret.toString());
            assertEquals("REVEALED", node.get("/api/benefit/audits/" + id).get("phase").asText());
            // the auditor attests a mismatch (another hash), the node disputes with its secret: no referee is left
            // (the node is the accused, OTHER the accuser), so the audit closes and nobody is punished
            cw(node, 0, "benefit", "attest", "--key", otherKey.toString(), "--receipt", id, "--hash",
                    HexFormat.of().formatHex(Sha256.hash(new byte[] {0})));
            assertEquals("ACCUSED", node.get("/api/benefit/audits/" + id).get("phase").asText());
            cw(node, 0, "benefit", "dispute", "--key", nodeKeyFile.toString(), "--receipt", id, "--secret", secret.toString());
            out = cw(node, 1, "benefit", "audit", id);
            assertTrue(out, out.contains("no open audit"));

            // unstaking into unbonding; more than the stake is refused with its reason
            cw(node, 0, "benefit", "unstake", "--key", otherKey.toString(), "--amount", "500");
            JsonNode other = node.get("/api/benefit/nodes/" + otherHex);
            assertEquals(1_500, other.get("stake").asLong());
            assertEquals(500, other.get("unbonding").asLong());
            assertEquals(0, other.get("slashed").asLong());
            out = cw(node, 1, "benefit", "unstake", "--key", otherKey.toString(), "--amount", "100000");
            assertTrue(out, out.contains("INSUFFICIENT_FUNDS"));

            // governance: the one approver (the registry key) weighs category 5; anyone else is refused
            out = cw(node, 1, "benefit", "govern", "--key", otherKey.toString(), "--proposal", "1", "--category", "5",
                    "--weight", "4");
            assertTrue(out, out.contains("UNAUTHORIZED"));
            cw(node, 0, "benefit", "govern", "--key", registryKey.toString(), "--proposal", "1", "--category", "5",
                    "--weight", "4");
            assertEquals(4, node.get("/api/benefit").get("categoryWeights").get("5").asLong());

            // a sale for the treasury by the payment key (here also the registry key), and a grant paid from it
            cw(node, 0, "benefit", "sale", "--key", registryKey.toString(), "--nation", "dev", "--buyer", otherHex,
                    "--coins", "300", "--payment", "700", "--reference", HexFormat.of().formatHex(Sha256.hash(new byte[] {9})));
            cw(node, 0, "benefit", "grant-vote", "--key", registryKey.toString(), "--nation", "dev", "--grantee", otherHex,
                    "--amount", "600", "--purpose", "10,000 GPU-hours of cancer screening");
            JsonNode treasury = node.get("/api/benefit/treasury").get("nations").get(0);
            assertEquals(treasury.toString(), 700, treasury.get("proceeds").asLong());
            assertEquals(treasury.toString(), 600, treasury.get("granted").asLong());
            assertTrue(treasury.toString(), treasury.get("balanced").asBoolean());
            // local currency the signer does not have: refused with its reason
            out = cw(node, 1, "benefit", "local-transfer", "--key", otherKey.toString(), "--nation", "dev", "--to", nodeHex,
                    "--amount", "5");
            assertTrue(out, out.contains("INSUFFICIENT_FUNDS"));
        }
    }
}
