package org.commonweal.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.cm.ConfigurationAdminOptions.newConfiguration;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

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
import org.commonweal.inference.Completion;
import org.commonweal.inference.GenerationListener;
import org.commonweal.inference.GenerationRequest;
import org.commonweal.inference.LanguageModel;
import org.commonweal.inference.LanguageModels;
import org.commonweal.inference.sampling.SamplingParams;
import org.commonweal.ledger.Mempool;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.ledger.Transfer;
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
 * Receipts from the OpenAI endpoint, end to end in the dev distribution: a person registered by nation "dev" asks
 * this node's {@code /v1/chat/completions} with a seed and their key, gets the receipt the node signed, countersigns
 * it (this test plays the client) and posts it back; the node claims it by itself, is sampled (every receipt is),
 * reveals the request by itself, sealed to the auditor, a second node played by this test, which opens it, re-runs it
 * on the demo model and attests the match; the audit passes and the node is paid. A receipt countersigned by an
 * unattested key is refused with its reason; the person's allowance counts exactly the receipt's tokens.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class EndpointReceiptsIT {

    private static final NationCode DEV = new NationCode("dev");
    private static final PrivateKey REGISTRY = key("registry");
    private static final PrivateKey PERSON = key("person");
    private static final PrivateKey STRANGER = key("stranger");
    private static final PrivateKey AUDITOR = key("auditor");
    private static final PrivateKey FILLER = key("filler");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    private BundleContext context;

    @Inject
    private Chain chain;

    @Inject
    private NodeIdentity identity;

    @Inject
    private BenefitParameters parameters;

    private static PrivateKey key(String name) {
        return Ed25519.fromSeed(Sha256.hash(("endpoint-receipts-it/" + name).getBytes(StandardCharsets.UTF_8)));
    }

    @Configuration
    public Option[] configuration() {
        return OptionUtils.combine(DevDistribution.paxExamOptions(DevDistribution.workFolder("endpoint-receipts"),
                DevDistribution.freePort()), NodeUnderTest.devNation(REGISTRY.publicKey(), 10, 20, 2),
                // claim each countersigned receipt at once
                newConfiguration("org.commonweal.benefit.serving").put("claim.delay.ms", 0L).asOption());
    }

    @Test
    public void aPersonsCountersignedEndpointReceiptIsClaimedRevealedAuditedAndRewarded() throws Exception {
        NodeUnderTest tested = node();
        PublicKey node = tested.key();
        LanguageModel model = tested.demo();
        // the auditor node (played here), funded, registered and staked with its audit key; this node registered, staked
        commitByNode(Transfer.TYPE, new Transfer(AUDITOR.publicKey(), 100_000).encode());
        commitByNode(Transfer.TYPE, new Transfer(FILLER.publicKey(), 100_000).encode());
        commitBy(REGISTRY, BenefitPayloads.NODE, new BenefitPayloads.NodeRegistration(DEV, node).encode());
        commitBy(REGISTRY, BenefitPayloads.NODE, new BenefitPayloads.NodeRegistration(DEV, AUDITOR.publicKey())
                .encode());
        commitBy(AUDITOR, BenefitPayloads.STAKE, new BenefitPayloads.Stake(1_000).encode());
        byte[] auditSecret = RevealCipher.auditSecret(AUDITOR.sign(RevealCipher.AUDIT_KEY_MESSAGE));
        commitBy(AUDITOR, BenefitPayloads.AUDIT_KEY, new BenefitPayloads.AuditKey(RevealCipher.publicKey(auditSecret))
                .encode());
        commitByNode(BenefitPayloads.STAKE, new BenefitPayloads.Stake(1_000).encode());
        await("this node's auditor published its audit key", () -> BenefitState.auditKey(chain.state(), node).isPresent());
        commitBy(REGISTRY, BenefitPayloads.PERSON, new BenefitPayloads.PersonAttestation(DEV, PERSON.publicKey(),
                Sha256.hash("a person the dev registry knows".getBytes(StandardCharsets.UTF_8))).encode());

        // served in deterministic mode for the person: the receipt in a header and in the body
        String ask = "{\"messages\": [{\"role\": \"user\", \"content\": \"Habari?\"}], \"seed\": 7, \"max_tokens\": 12}";
        HttpResponse<String> reply = post("/v1/chat/completions", ask, PERSON.publicKey().hex());
        assertEquals(reply.body(), 200, reply.statusCode());
        JsonNode body = JSON.readTree(reply.body());
        JsonNode issued = body.get("commonweal_receipt");
        assertNotNull(reply.body(), issued);
        assertEquals("/api/benefit/receipts", issued.get("countersign").asText());
        String header = reply.headers().firstValue("X-Commonweal-Receipt").orElseThrow();
        assertTrue(header, header.startsWith(issued.get("id").asText() + "; receipt=" + issued.get("receipt").asText()));
        Receipt receipt = Receipt.decode(HexFormat.of().parseHex(issued.get("receipt").asText()));
        assertEquals(node, receipt.node());
        assertEquals(PERSON.publicKey(), receipt.person());
        assertEquals(chain.chainId(), receipt.chainId());
        assertEquals(7, receipt.seed());
        assertArrayEquals(HexFormat.of().parseHex(model.info().sha256()), receipt.modelDigest());
        JsonNode usage = body.get("usage");
        assertEquals(usage.get("prompt_tokens").asInt(), receipt.promptTokens());
        assertEquals(usage.get("completion_tokens").asInt(), receipt.completionTokens());
        assertTrue("signed by the node", Ed25519.verify(node, receipt.nodeSigningBytes(), receipt.nodeSignature()));

        // streamed: the receipt rides in the chunk that finishes
        HttpResponse<String> streamed = post("/v1/completions", "{\"prompt\": \"Jambo\", \"seed\": 3, \"max_tokens\": 6,"
                + " \"stream\": true}", PERSON.publicKey().hex());
        JsonNode last = null;
        for (String line : streamed.body().split("\n")) {
            if (line.startsWith("data: {") && line.contains("commonweal_receipt")) {
                last = JSON.readTree(line.substring("data: ".length()));
            }
        }
        assertNotNull(streamed.body(), last);
        assertTrue(last.toString(), !last.get("choices").get(0).get("finish_reason").isNull());
        assertEquals(3, Receipt.decode(HexFormat.of().parseHex(last.get("commonweal_receipt").get("receipt").asText())).seed());

        // without a seed: served, no receipt, and the reply says why
        HttpResponse<String> random = post("/v1/completions", "{\"prompt\": \"Jambo\", \"max_tokens\": 2}",
                PERSON.publicKey().hex());
        assertEquals(200, random.statusCode());
        assertTrue(random.headers().firstValue("X-Commonweal-Receipt-Refused").orElseThrow().contains("seed"));

        // a key no registry attested: served, but no receipt, and the reply says why
        HttpResponse<String> strangers = post("/v1/completions", "{\"prompt\": \"Jambo\", \"seed\": 5, \"max_tokens\": 4}",
                STRANGER.publicKey().hex());
        assertEquals(strangers.body(), 200, strangers.statusCode());
        String why = strangers.headers().firstValue("X-Commonweal-Receipt-Refused").orElseThrow();
        assertTrue(why, why.contains(STRANGER.publicKey().hex()) && why.contains("not attested"));
        assertEquals(why, JSON.readTree(strangers.body()).get("commonweal_receipt").get("refused").asText());
        // and a receipt for that key, signed by this node all the same and countersigned, is refused with the reason
        Receipt unsigned = Receipt.unsigned(chain.chainId(), node, STRANGER.publicKey(), receipt.modelDigest(),
                receipt.adapterDigest(), receipt.requestCommitment(), 5, receipt.outputHash(), 4, 4,
                System.currentTimeMillis(), 0);
        Receipt strangersReceipt = unsigned.withNodeSignature(identity.sign(unsigned.nodeSigningBytes()))
                .countersignedBy(STRANGER);
        HttpResponse<String> refused = post("/api/benefit/receipts", "{\"receipt\": \""
                + HexFormat.of().formatHex(strangersReceipt.encode()) + "\"}", null);
        assertEquals(refused.body(), 403, refused.statusCode());
        JsonNode refusal = JSON.readTree(refused.body());
        assertEquals("NOT_REGISTERED", refusal.get("error").asText());
        assertTrue(refusal.get("message").asText(), refusal.get("message").asText().contains("not attested"));

        // the person's client countersigns and posts it back; the node claims it by itself
        long balance = chain.account(node).balance();
        HttpResponse<String> accepted = post("/api/benefit/receipts", "{\"receipt\": \""
                + HexFormat.of().formatHex(receipt.countersignedBy(PERSON).encode()) + "\"}", null);
        assertEquals(accepted.body(), 200, accepted.statusCode());
        assertEquals(HexFormat.of().formatHex(receipt.id()), JSON.readTree(accepted.body()).get("id").asText());
        await("the node claimed the receipt", () -> BenefitState.dayUsage(chain.state(), PERSON.publicKey(), receipt.day())
                .tokens() > 0);
        // the allowance counts exactly the receipt's tokens
        assertEquals(receipt.tokens(), BenefitState.dayUsage(chain.state(), PERSON.publicKey(), receipt.day()).tokens());
        assertEquals(parameters.allowanceTokens() - receipt.tokens(), tested.getJson("/api/benefit/persons/"
                + PERSON.publicKey().hex() + "?day=" + receipt.day()).get("tokensLeft").asLong());

        // the next block samples it (the sample rate is 100%); the node reveals it by itself, to the auditor
        block();
        BenefitState.Audit sampled = BenefitState.audit(chain.state(), receipt.id()).orElseThrow(() -> new AssertionError(
                "the claimed receipt was not sampled"));
        assertEquals(AUDITOR.publicKey(), sampled.auditor());
        await("the node revealed the sampled request", () -> BenefitState.audit(chain.state(), receipt.id())
                .map(a -> a.phase() == BenefitState.Phase.REVEALED).orElse(false));

        // the auditor opens the reveal, re-runs it on the demo model and attests the match
        BenefitState.Audit revealed = BenefitState.audit(chain.state(), receipt.id()).orElseThrow();
        RevealedRequest request = RevealedRequest.decode(RevealCipher.open(auditSecret, receipt.id(),
                BenefitState.sealedReveal(chain.state(), revealed).orElseThrow()));
        assertArrayEquals(receipt.requestCommitment(), request.commitment());
        byte[] rerun = reRun(model, request, receipt.seed());
        assertArrayEquals("the re-run gives the receipt's output", receipt.outputHash(), rerun);
        commitBy(AUDITOR, BenefitPayloads.ATTEST, new BenefitPayloads.Attestation(receipt.id(),
                BenefitPayloads.Verdict.MATCH, rerun).encode());
        assertTrue("the audit passed", BenefitState.audit(chain.state(), receipt.id()).isEmpty());
        assertEquals(1, BenefitState.record(chain.state(), node).passed());

        // held while an audit could void it, then paid
        long held = BenefitState.heldRewards(chain.state(), node);
        assertTrue("the claim earned a held reward", held > 0);
        for (long i = 0; i < parameters.audit().holdBlocks(); i++) {
            block();
        }
        assertEquals(held, BenefitState.rewards(chain.state(), node));
        assertEquals(balance + held, chain.account(node).balance());
    }

    /** The auditor's re-execution: the revealed prompt and parameters, the receipt's seed, on the receipt's model. */
    private static byte[] reRun(LanguageModel model, RevealedRequest r, long seed) throws Exception {
        SamplingParams sampling = new SamplingParams(r.temperature(), r.topK(), r.topP(), r.minP(), r.repeatPenalty(),
                r.repeatLastN(), r.frequencyPenalty(), r.presencePenalty(), seed);
        CompletableFuture<Completion> done = new CompletableFuture<>();
        model.generate(new GenerationRequest(r.prompt(), sampling, r.maxTokens(), r.stop(), false,
                r.adapter().isEmpty() ? null : r.adapter()), GenerationListener.completing(done));
        return RevealedRequest.outputHash(done.get(60, TimeUnit.SECONDS).tokens());
    }

    private NodeUnderTest node() {
        return new NodeUnderTest(context, chain, identity);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (!condition.getAsBoolean()) {
            assertTrue("not within 60 s: " + what, System.currentTimeMillis() < deadline);
            Thread.sleep(50);
        }
    }

    /** One more block (the solo engine makes none without transactions). */
    private void block() throws Exception {
        commitBy(FILLER, Transfer.TYPE, new Transfer(REGISTRY.publicKey(), 1).encode());
    }

    private void commitBy(PrivateKey key, int type, byte[] payload) throws Exception {
        node().commit(node().signedBy(key, type, payload));
    }

    private void commitByNode(int type, byte[] payload) throws Exception {
        node().commit(node().signedByNode(type, payload));
    }

    private HttpResponse<String> post(String path, String json, String person) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(node().uri(path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (person != null) {
            request.header("X-Commonweal-Person", person);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

}
