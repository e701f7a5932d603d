package org.commonweal.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.NationCode;
import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealCipher;
import org.commonweal.benefit.RevealedRequest;
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
import org.commonweal.ledger.Transfer;
import org.commonweal.inference.Completion;
import org.commonweal.inference.GenerationListener;
import org.commonweal.inference.GenerationRequest;
import org.commonweal.inference.LanguageModel;
import org.commonweal.inference.LanguageModels;
import org.commonweal.inference.sampling.SamplingParams;
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
 * claims the person's countersigned receipt; the block that holds the claim earns the node the block's emission,
 * held while audits could still void it, then paid, provably over the chain API; the same claim again is refused as a
 * duplicate. And verification by re-execution with a real auditor: this node (its auditor component, on the demo
 * model) audits a second node played by this test, which serves on the demo model, claims, is sampled and reveals:
 * the honest receipt passes and is paid; a receipt whose output was altered is caught and the node slashed.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BenefitIT {

    private static final NationCode DEV = new NationCode("dev");
    private static final PrivateKey REGISTRY = key("registry");
    private static final PrivateKey PERSON = key("person");
    private static final PrivateKey SERVER = key("server");
    private static final PrivateKey AUDITED_PERSON = key("audited-person");
    private static final PrivateKey FILLER = key("filler");
    /** Every receipt sampled; short windows (blocks come only with transactions here). */
    private static final long REVEAL = 3;
    private static final long ATTEST = 20;
    private static final long DISPUTE = 2;

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
        return OptionUtils.combine(DevDistribution.paxExamOptions(DevDistribution.workFolder("benefit"),
                DevDistribution.freePort()), NodeUnderTest.devNation(REGISTRY.publicKey(), REVEAL, ATTEST, DISPUTE));
    }

    private NodeUnderTest node() {
        return new NodeUnderTest(context, chain, identity);
    }

    private LanguageModel demo() throws InterruptedException {
        return node().demo();
    }

    /**
     * This node registered, staked, and auditing: its auditor component publishes its audit key once it is staked
     * (with the node key: the test waits for it, so that their nonces do not collide). Idempotent.
     */
    private void nodeStakedAndAuditing() throws Exception {
        PublicKey node = PublicKey.of(identity.publicKey());
        if (BenefitState.node(chain.state(), node).isEmpty()) {
            // fund the second node and the filler while nobody else signs with the node key
            commit(signedByNode(Transfer.TYPE, new Transfer(SERVER.publicKey(), 100_000).encode()));
            commit(signedByNode(Transfer.TYPE, new Transfer(FILLER.publicKey(), 100_000).encode()));
            commit(signedBy(REGISTRY, BenefitPayloads.NODE, new BenefitPayloads.NodeRegistration(DEV, node).encode()));
            commit(signedByNode(BenefitPayloads.STAKE, new BenefitPayloads.Stake(1_000).encode()));
        }
        long deadline = System.currentTimeMillis() + 60_000;
        while (BenefitState.auditKey(chain.state(), node).isEmpty()) {
            assertTrue("the auditor did not publish the node's audit key within 60 s", System.currentTimeMillis() < deadline);
            Thread.sleep(50);
        }
    }

    /** One more block (the solo engine makes none without transactions). */
    private void block() throws Exception {
        commit(signedBy(FILLER, Transfer.TYPE, new Transfer(REGISTRY.publicKey(), 1).encode()));
    }

    private void blocks(long n) throws Exception {
        for (long i = 0; i < n; i++) {
            block();
        }
    }

    private TransactionStatus commit(Transaction tx) throws Exception {
        return node().commit(tx);
    }

    private Transaction signedBy(PrivateKey key, int type, byte[] payload) {
        return node().signedBy(key, type, payload);
    }

    private Transaction signedByNode(int type, byte[] payload) {
        return node().signedByNode(type, payload);
    }

    private JsonNode getJson(String path) throws Exception {
        return node().getJson(path);
    }

    @Test
    public void aRegisteredPersonsCountersignedReceiptRewardsTheNode() throws Exception {
        PublicKey node = PublicKey.of(identity.publicKey());
        nodeStakedAndAuditing();
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
        // held while an audit could void it (a node never audits itself, and there is no other auditor: not audited)
        assertEquals(reward, BenefitState.heldRewards(chain.state(), node));
        assertEquals(balanceBefore, chain.account(node).balance());
        blocks(parameters.audit().holdBlocks());
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

    /** Served on the demo model in deterministic mode: the request as revealed, with the output the node got. */
    private static RevealedRequest serve(LanguageModel model, String prompt, long seed) throws Exception {
        int[] tokens = model.tokenizer().encode(prompt, true, false);
        SamplingParams sampling = SamplingParams.defaults(seed);
        CompletableFuture<Completion> done = new CompletableFuture<>();
        model.generate(new GenerationRequest(tokens, sampling, 24, List.of(), false, null), GenerationListener.completing(done));
        int[] output = done.get(60, TimeUnit.SECONDS).tokens();
        return new RevealedRequest(tokens, sampling.temperature(), sampling.topK(), sampling.topP(), sampling.minP(),
                sampling.repeatPenalty(), sampling.repeatLastN(), sampling.frequencyPenalty(), sampling.presencePenalty(), 24,
                List.of(), "", output);
    }

    private Receipt receipt(LanguageModel model, RevealedRequest request, long seed) {
        return Receipt.unsigned(chain.chainId(), SERVER.publicKey(), AUDITED_PERSON.publicKey(),
                HexFormat.of().parseHex(model.info().sha256()), new byte[32], request.commitment(), seed, request.outputHash(),
                request.prompt().length, request.output().length, System.currentTimeMillis(), 0).signedBy(SERVER)
                .countersignedBy(AUDITED_PERSON);
    }

    /** Claims the receipt, lets the next block sample it, reveals it to its auditor; the audit as revealed. */
    private BenefitState.Audit claimSampleAndReveal(Receipt receipt, RevealedRequest request) throws Exception {
        commit(signedBy(SERVER, BenefitPayloads.CLAIM, new BenefitPayloads.Claim(List.of(receipt)).encode()));
        block();
        BenefitState.Audit audit = BenefitState.audit(chain.state(), receipt.id()).orElseThrow(() -> new AssertionError(
                "the receipt was not sampled (the sample rate is 100%)"));
        assertEquals(BenefitState.Phase.SAMPLED, audit.phase());
        assertEquals("this node is the only other auditor", PublicKey.of(identity.publicKey()), audit.auditor());
        byte[] auditKey = BenefitState.auditKey(chain.state(), audit.auditor()).orElseThrow();
        byte[] sealed = RevealCipher.seal(auditKey, receipt.id(), request.encode(), new java.security.SecureRandom());
        commit(signedBy(SERVER, BenefitPayloads.REVEAL, new BenefitPayloads.Reveal(receipt.id(), sealed).encode()));
        return BenefitState.audit(chain.state(), receipt.id()).orElseThrow();
    }

    /** Waits for the auditor to attest: until the audit leaves the revealed phase. */
    private void awaitAttestation(byte[] receiptId) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (BenefitState.audit(chain.state(), receiptId).map(a -> a.phase() == BenefitState.Phase.REVEALED).orElse(false)) {
            assertTrue("the auditor did not attest within 120 s", System.currentTimeMillis() < deadline);
            Thread.sleep(20);
        }
    }

    /** A node without inference still runs the ledger rules: the benefit bundle imports the inference API optionally. */
    @Test
    public void theBenefitBundleNeedsNoInference() {
        org.osgi.framework.Bundle benefit = java.util.Arrays.stream(context.getBundles())
                .filter(b -> "org.commonweal.benefit".equals(b.getSymbolicName())).findFirst().orElseThrow();
        String imports = benefit.getHeaders().get("Import-Package");
        for (String clause : imports.split(",(?=[a-z])")) {
            if (clause.startsWith("org.commonweal.inference")) {
                assertTrue(clause, clause.contains("resolution:=optional"));
            }
        }
        assertTrue(imports, imports.contains("org.commonweal.inference;"));
    }

    @Test
    public void anAuditorReRunsSampledReceiptsPassesTheHonestAndCatchesAnAlteredOutput() throws Exception {
        nodeStakedAndAuditing();
        LanguageModel model = demo();
        commit(signedBy(REGISTRY, BenefitPayloads.NODE, new BenefitPayloads.NodeRegistration(DEV, SERVER.publicKey()).encode()));
        commit(signedBy(SERVER, BenefitPayloads.STAKE, new BenefitPayloads.Stake(10_000).encode()));
        commit(signedBy(REGISTRY, BenefitPayloads.PERSON, new BenefitPayloads.PersonAttestation(DEV,
                AUDITED_PERSON.publicKey(), Sha256.hash("another person".getBytes(StandardCharsets.UTF_8))).encode()));

        // honest: served, claimed, sampled, revealed, re-run by this node's auditor on the demo model, passed, paid
        serve(model, "Warm-up", 1);
        long balance = chain.account(SERVER.publicKey()).balance();
        int honestAudits = 3;
        long servingNanos = 0;
        long auditNanos = 0;
        for (int i = 0; i < honestAudits; i++) {
            long started = System.nanoTime();
            RevealedRequest honest = serve(model, "Habari ya asubuhi? " + i, 11 + i);
            servingNanos += System.nanoTime() - started;
            Receipt receipt = receipt(model, honest, 11 + i);
            claimSampleAndReveal(receipt, honest);
            long revealed = System.nanoTime();
            awaitAttestation(receipt.id());
            auditNanos += System.nanoTime() - revealed;
            assertTrue("the audit closed with a match", BenefitState.audit(chain.state(), receipt.id()).isEmpty());
        }
        assertEquals(new BenefitState.Record(honestAudits, 0, 0, 0), BenefitState.record(chain.state(), SERVER.publicKey()));
        long held = BenefitState.heldRewards(chain.state(), SERVER.publicKey());
        assertTrue("the claims earned held rewards", held > 0);
        blocks(parameters.audit().holdBlocks());
        assertEquals(0, BenefitState.heldRewards(chain.state(), SERVER.publicKey()));
        assertEquals(held, BenefitState.rewards(chain.state(), SERVER.publicKey()));
        assertEquals(balance + held, chain.account(SERVER.publicKey()).balance());
        double ratio = (double) auditNanos / servingNanos;
        System.out.printf("audit cost on the demo model: %d requests served in %.1f ms each on average; from the reveal's"
                + " commit to the attestation's %.1f ms (decryption, re-execution, one block): %.2f of serving time; at the"
                + " default sample rate of 2%%: %.2f%% of serving time%n", honestAudits, servingNanos / 1e6 / honestAudits,
                auditNanos / 1e6 / honestAudits, ratio, 2.0 * ratio);

        // altered: the node claims an output the model does not give; the auditor's re-run differs
        RevealedRequest served = serve(model, "Habari ya jioni?", 20);
        int[] output = served.output();
        output[output.length - 1] ^= 1;
        RevealedRequest altered = new RevealedRequest(served.prompt(), served.temperature(), served.topK(), served.topP(),
                served.minP(), served.repeatPenalty(), served.repeatLastN(), served.frequencyPenalty(),
                served.presencePenalty(), served.maxTokens(), served.stop(), served.adapter(), output);
        Receipt lie = receipt(model, altered, 20);
        claimSampleAndReveal(lie, altered);
        awaitAttestation(lie.id());
        BenefitState.Audit accused = BenefitState.audit(chain.state(), lie.id()).orElseThrow();
        assertEquals(BenefitState.Phase.ACCUSED, accused.phase());
        assertTrue("the auditor's hash is the model's output", java.util.Arrays.equals(served.outputHash(),
                accused.accusedHash()));
        long heldBefore = BenefitState.heldRewards(chain.state(), SERVER.publicKey());
        assertTrue(heldBefore > 0);
        long slashedBefore = BenefitState.slashed(chain.state());
        // undisputed: at fault once the dispute window has passed
        blocks(DISPUTE + 1);
        assertTrue(BenefitState.audit(chain.state(), lie.id()).isEmpty());
        assertEquals(new BenefitState.Record(honestAudits, 1, 1_000, 0), BenefitState.record(chain.state(),
                SERVER.publicKey()));
        assertEquals(9_000, BenefitState.node(chain.state(), SERVER.publicKey()).orElseThrow().stake());
        assertEquals(0, BenefitState.heldRewards(chain.state(), SERVER.publicKey()));
        assertEquals(slashedBefore + 1_000, BenefitState.slashed(chain.state()));
        assertEquals("the voided reward was never paid", held, BenefitState.rewards(chain.state(), SERVER.publicKey()));
        JsonNode nodeJson = getJson("/api/benefit/nodes/" + SERVER.publicKey().hex());
        assertEquals(9_000, nodeJson.get("stake").asLong());
    }
}
