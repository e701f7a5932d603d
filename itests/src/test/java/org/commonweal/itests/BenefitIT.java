package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.cm.ConfigurationAdminOptions.newConfiguration;

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

import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.NationCode;
import org.commonweal.benefit.Receipt;
import org.commonweal.chain.Chain;
import org.commonweal.chain.TransactionStatus;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.Sha256;
import org.commonweal.ledger.Mempool;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.node.api.NodeIdentity;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.OptionUtils;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Proof of benefit in the dev distribution: with the chain parameters of a nation "dev" (its registry and payment
 * keys held by this test), the registry registers this node and attests a person, the node stakes, serves, and
 * claims the person's countersigned receipt; the block that holds the claim rewards the node with the block's
 * emission, provably over the chain API; the same claim again is refused as a duplicate.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BenefitIT {

    private static final NationCode DEV = new NationCode("dev");
    private static final PrivateKey REGISTRY = key("registry");
    private static final PrivateKey PERSON = key("person");

    @Inject
    private BundleContext context;

    @Inject
    private Chain chain;

    @Inject
    private NodeIdentity identity;

    /** Waits for the benefit component: its types and rule are registered with it. */
    @Inject
    private BenefitParameters parameters;

    private static PrivateKey key(String name) {
        return Ed25519.fromSeed(Sha256.hash(("benefit-it/" + name).getBytes(StandardCharsets.UTF_8)));
    }

    @Configuration
    public Option[] configuration() {
        String hex = REGISTRY.publicKey().hex();
        return OptionUtils.combine(DevDistribution.paxExamOptions(DevDistribution.workFolder("benefit"),
                DevDistribution.freePort()), newConfiguration("org.commonweal.benefit")
                        .put("nations", new String[] {"dev:" + hex + ":" + hex})
                        .put("stake.minimum", 1_000L).asOption());
    }

    private TransactionStatus commit(Transaction tx) throws Exception {
        Mempool.Admission admission = chain.submit(List.of(tx)).get(0);
        assertEquals(String.valueOf(admission.rejection()), Mempool.Outcome.ACCEPTED, admission.outcome());
        TransactionStatus status = chain.awaitCommitted(tx.id(), 30_000).orElseThrow();
        assertTrue("not committed within 30 s", status.committed());
        return status;
    }

    private Transaction signedBy(PrivateKey key, int type, byte[] payload) {
        return TransactionCodec.sign(key, chain.chainId(), chain.account(key.publicKey()).nonce(), 0, type, payload);
    }

    private Transaction signedByNode(int type, byte[] payload) {
        PublicKey node = PublicKey.of(identity.publicKey());
        long nonce = chain.account(node).nonce();
        return new Transaction(chain.chainId(), node, nonce, 0, type, payload,
                identity.sign(TransactionCodec.signingBytes(chain.chainId(), node, nonce, 0, type, payload)));
    }

    private JsonNode getJson(String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + context.getProperty("org.osgi.service.http.port") + path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(response.body(), 200, response.statusCode());
        return new ObjectMapper().readTree(response.body());
    }

    @Test
    public void aRegisteredPersonsCountersignedReceiptRewardsTheNode() throws Exception {
        PublicKey node = PublicKey.of(identity.publicKey());
        commit(signedBy(REGISTRY, BenefitPayloads.NODE, new BenefitPayloads.NodeRegistration(DEV, node).encode()));
        commit(signedByNode(BenefitPayloads.STAKE, new BenefitPayloads.Stake(1_000).encode()));
        commit(signedBy(REGISTRY, BenefitPayloads.PERSON, new BenefitPayloads.PersonAttestation(DEV, PERSON.publicKey(),
                Sha256.hash("a person the dev registry knows".getBytes(StandardCharsets.UTF_8))).encode()));

        // served in deterministic mode: the node signs the receipt, the person's client countersigns it
        Receipt unsigned = Receipt.unsigned(chain.chainId(), node, PERSON.publicKey(), Sha256.hash(new byte[] {1}),
                new byte[32], Receipt.requestCommitment("Habari?".getBytes(StandardCharsets.UTF_8), new byte[] {0}), 7,
                Sha256.hash("Nzuri.".getBytes(StandardCharsets.UTF_8)), 12, 30, System.currentTimeMillis(), 0);
        Receipt receipt = unsigned.withNodeSignature(identity.sign(unsigned.nodeSigningBytes())).countersignedBy(PERSON);
        long balanceBefore = chain.account(node).balance();
        Transaction claim = signedByNode(BenefitPayloads.CLAIM, new BenefitPayloads.Claim(List.of(receipt)).encode());
        long height = commit(claim).height();

        long reward = parameters.emissionAt(height);
        assertTrue(reward > 0);
        assertEquals(reward, BenefitState.rewards(chain.state(), node));
        assertEquals(balanceBefore + reward, chain.account(node).balance());
        assertEquals(parameters.allowanceTokens() - 42, BenefitState.allowanceLeft(chain.state(), parameters,
                PERSON.publicKey(), receipt.day()));

        // the reward, proven over the chain API
        String port = context.getProperty("org.osgi.service.http.port");
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + port + "/api/chain/entries/" + BenefitState.REWARD + "/" + node.hex())).timeout(Duration.ofSeconds(30))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(response.body(), 200, response.statusCode());
        JsonNode entry = new ObjectMapper().readTree(response.body());
        assertEquals(reward, ByteBuffer.wrap(HexFormat.of().parseHex(entry.get("value").asText())).getLong());
        assertTrue(chain.proveEntry(BenefitState.REWARD, node.bytes()).orElseThrow().verifies());

        // the benefit API: the node's rewards, the person's allowance use
        JsonNode nodeJson = getJson("/api/benefit/nodes/" + node.hex());
        assertEquals(reward, nodeJson.get("rewards").asLong());
        assertEquals("dev", nodeJson.get("nation").asText());
        JsonNode personJson = getJson("/api/benefit/persons/" + PERSON.publicKey().hex() + "?day=" + receipt.day());
        assertEquals(42, personJson.get("tokensUsed").asLong());
        assertEquals(10, personJson.get("localBalance").asLong());

        // the same receipt again: refused at the door, with its reason
        Mempool.Admission again = chain.submit(List.of(signedByNode(BenefitPayloads.CLAIM,
                new BenefitPayloads.Claim(List.of(receipt)).encode()))).get(0);
        assertEquals(Mempool.Outcome.REJECTED, again.outcome());
        assertEquals(again.rejection().getMessage(), Rejection.Reason.DUPLICATE, again.rejection().reason());
    }
}
