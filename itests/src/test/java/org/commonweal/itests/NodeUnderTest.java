package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import org.commonweal.chain.Chain;
import org.commonweal.chain.TransactionStatus;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.inference.LanguageModel;
import org.commonweal.inference.LanguageModels;
import org.commonweal.ledger.Mempool;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.node.api.NodeIdentity;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.cm.ConfigurationAdminOptions;
import org.osgi.framework.BundleContext;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The node a Pax Exam test runs in, as the proof-of-benefit tests drive it: transactions signed by a test's key or by
 * the node identity and awaited, the demo model, the HTTP API.
 */
record NodeUnderTest(BundleContext context, Chain chain, NodeIdentity identity) {

    /**
     * The chain parameters of proof of benefit with one nation "dev" whose registry and payment key is
     * {@code registry}, a minimum stake of 1,000, every receipt sampled, these audit windows (in blocks), 10% slashed.
     */
    static Option devNation(PublicKey registry, long revealBlocks, long attestBlocks, long disputeBlocks) {
        String hex = registry.hex();
        return ConfigurationAdminOptions.newConfiguration("org.commonweal.benefit")
                .put("nations", new String[] {"dev:" + hex + ":" + hex})
                .put("stake.minimum", 1_000L).put("audit.sampleRate", 1_000_000L).put("audit.revealBlocks", revealBlocks)
                .put("audit.attestBlocks", attestBlocks).put("audit.disputeBlocks", disputeBlocks)
                .put("audit.slashShare", 100_000L).put("audit.unbondingBlocks", 60L).asOption();
    }

    PublicKey key() {
        return PublicKey.of(identity.publicKey());
    }

    /** Submits and waits for the commit; fails the test on a refusal. */
    TransactionStatus commit(Transaction tx) throws InterruptedException {
        Mempool.Admission admission = chain.submit(List.of(tx)).get(0);
        assertEquals(String.valueOf(admission.rejection()), Mempool.Outcome.ACCEPTED, admission.outcome());
        TransactionStatus status = chain.awaitCommitted(tx.id(), 30_000).orElseThrow();
        assertTrue("not committed within 30 s", status.committed());
        return status;
    }

    Transaction signedBy(PrivateKey key, int type, byte[] payload) {
        return TransactionCodec.sign(key, chain.chainId(), chain.account(key.publicKey()).nonce(), 0, type, payload);
    }

    Transaction signedByNode(int type, byte[] payload) {
        PublicKey node = key();
        long nonce = chain.account(node).nonce();
        return new Transaction(chain.chainId(), node, nonce, 0, type, payload,
                identity.sign(TransactionCodec.signingBytes(chain.chainId(), node, nonce, 0, type, payload)));
    }

    /**
     * The current models service's demo model, looked up each time: Pax Exam applies the inference configuration
     * while the bundles start, so the component may be replaced after an injection would have run.
     */
    LanguageModel demo() throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            var reference = context.getServiceReference(LanguageModels.class);
            if (reference != null) {
                var demo = context.getService(reference).find("commonweal-demo");
                if (demo.isPresent()) {
                    return demo.get();
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the demo model did not appear within 60 s");
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + context.getProperty("org.osgi.service.http.port") + path);
    }

    /** GET, expecting 200 with JSON. */
    JsonNode getJson(String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri(path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(response.body(), 200, response.statusCode());
        return new ObjectMapper().readTree(response.body());
    }
}
