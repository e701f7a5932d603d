package org.commonweal.benefit.internal;

import static org.commonweal.benefit.internal.BenefitHarness.BR;
import static org.commonweal.benefit.internal.BenefitHarness.BR_REGISTRY;
import static org.commonweal.benefit.internal.BenefitHarness.CHAIN;
import static org.commonweal.benefit.internal.BenefitHarness.KE;
import static org.commonweal.benefit.internal.BenefitHarness.KE_REGISTRY;
import static org.commonweal.benefit.internal.BenefitHarness.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealedRequest;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.Sha256;
import org.commonweal.inference.receipts.IssuedReceipt;
import org.commonweal.inference.receipts.ServedRequest;
import org.commonweal.inference.sampling.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The serving node's receipts: issued as the ledger and an auditor require them (a claim of the countersigned receipt
 * applies; the kept request reproduces its commitment and output hash), taken back only countersigned by an attested
 * person of the node's nation, kept across a restart and bounded.
 */
class ReceiptDeskTest {

    private final PrivateKey node = key("desk-node");
    private final PrivateKey person = key("desk-person");
    private final BenefitHarness chain = new BenefitHarness(BenefitHarness.parameters(100_000, 1_000, 10, Long.MAX_VALUE),
            Map.of(node.publicKey(), 100_000L));
    @TempDir
    Path folder;

    private final List<ServedRequests> stores = new java.util.ArrayList<>();

    /** A store on the test's folder, closed after the test (its thread writes the files). */
    private ServedRequests store(int max) throws java.io.IOException {
        ServedRequests store = new ServedRequests(folder, max);
        stores.add(store);
        return store;
    }

    @org.junit.jupiter.api.AfterEach
    void closeStores() throws InterruptedException {
        for (ServedRequests store : stores) {
            store.close();
        }
    }

    /** The node registered and staked in nation KE, the person attested by KE's registry. */
    private void nodeAndPersonOfKenya() throws Exception {
        chain.registerNode(KE_REGISTRY, KE, node, 1_000);
        chain.attest(KE_REGISTRY, KE, person.publicKey());
    }

    private ReceiptDesk desk(ServedRequests store) {
        return new ReceiptDesk(CHAIN, node.publicKey(), node::sign, store);
    }

    private static ServedRequest served(String person, int n) {
        return new ServedRequest(person, HexFormat.of().formatHex(Sha256.hash(new byte[] {1})), null, null,
                new int[] {1, 15043, 29892, n}, new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0, 0, 42 + n), 16,
                List.of("\n"), new int[] {450, 4996, 2});
    }

    @Test
    void anIssuedReceiptCountersignedIsClaimedAndItsKeptRequestIsWhatAnAuditorReRuns() throws Exception {
        nodeAndPersonOfKenya();
        ServedRequests store = store(100);
        ReceiptDesk desk = desk(store);
        IssuedReceipt issued = new EndpointIssuer(desk, () -> chain.state).issue(served(person.publicKey().hex(), 0));
        Receipt receipt = Receipt.decode(HexFormat.of().parseHex(issued.receipt()));
        assertEquals(issued.id(), HexFormat.of().formatHex(receipt.id()));
        assertEquals(node.publicKey(), receipt.node());
        assertEquals(42, receipt.seed());
        assertEquals(4, receipt.promptTokens());
        assertEquals(3, receipt.completionTokens());
        assertArrayEquals(new byte[32], receipt.adapterDigest());
        RevealedRequest kept = store.request(issued.id());
        assertArrayEquals(kept.commitment(), receipt.requestCommitment());
        assertArrayEquals(kept.outputHash(), receipt.outputHash());
        assertArrayEquals(new int[] {1, 15043, 29892, 0}, kept.prompt());
        assertEquals(16, kept.maxTokens());

        Receipt countersigned = desk.accept(receipt.countersignedBy(person).encode(), chain.state);
        assertEquals(ServedRequests.Stage.COUNTERSIGNED, store.entry(issued.id()).orElseThrow().stage());
        desk.accept(countersigned.encode(), chain.state); // again: accepted, nothing changes
        assertEquals(1, store.pending().size());

        // the ledger takes it as issued: the claim applies and counts its 7 tokens against the person's allowance
        chain.time = countersigned.timeMillis();
        chain.block(chain.claim(node, countersigned));
        assertEquals(7, BenefitState.dayUsage(chain.state, person.publicKey(), countersigned.day()).tokens());
    }

    @Test
    void anUnattestedKeyGetsNoReceiptAndItsCountersignedReceiptIsRefusedWithTheReason() throws Exception {
        chain.registerNode(KE_REGISTRY, KE, node, 1_000);
        ReceiptDesk desk = desk(store(100));
        PrivateKey stranger = key("desk-stranger");
        IllegalArgumentException noReceipt = assertThrows(IllegalArgumentException.class,
                () -> new EndpointIssuer(desk, () -> chain.state).issue(served(stranger.publicKey().hex(), 1)));
        assertTrue(noReceipt.getMessage().contains(stranger.publicKey().hex()) && noReceipt.getMessage()
                .contains("not attested"), noReceipt.getMessage());
        // one signed by the node all the same (as if issued elsewhere): refused for the person, before anything else
        Receipt receipt = Receipt.unsigned(CHAIN, node.publicKey(), stranger.publicKey(), Sha256.hash(new byte[] {1}),
                new byte[32], Sha256.hash(new byte[] {2}), 42, Sha256.hash(new byte[] {3}), 4, 3, chain.time, 0)
                .signedBy(node).countersignedBy(stranger);
        ReceiptDesk.Refusal refusal = refused(desk, receipt.encode());
        assertEquals("NOT_REGISTERED", refusal.code);
        assertEquals(403, refusal.status);
        assertTrue(refusal.getMessage().contains(stranger.publicKey().hex()) && refusal.getMessage().contains("attest"),
                refusal.getMessage());
    }

    @Test
    void aForgedTamperedForeignOrOtherNationsReceiptIsRefused() throws Exception {
        nodeAndPersonOfKenya();
        PrivateKey brazilian = key("desk-brazilian");
        chain.attest(BR_REGISTRY, BR, brazilian.publicKey());
        ReceiptDesk desk = desk(store(100));
        EndpointIssuer issuer = new EndpointIssuer(desk, () -> chain.state);
        Receipt receipt = Receipt.decode(HexFormat.of().parseHex(issuer.issue(served(person.publicKey().hex(), 2)).receipt()));

        assertEquals("BAD_SIGNATURE", refused(desk, receipt.withPersonSignature(node.sign(receipt.personSigningBytes()))
                .encode()).code); // not the person's key
        assertEquals("BAD_SIGNATURE", refused(desk, receipt.encode()).code); // not countersigned at all
        Receipt otherSeed = Receipt.unsigned(CHAIN, node.publicKey(), person.publicKey(), receipt.modelDigest(),
                receipt.adapterDigest(), receipt.requestCommitment(), 7, receipt.outputHash(), 4, 3, receipt.timeMillis(), 0);
        assertEquals("UNKNOWN_RECEIPT", refused(desk, otherSeed.signedBy(node).countersignedBy(person).encode()).code);
        PrivateKey other = key("desk-other-node");
        assertEquals("UNAUTHORIZED", refused(desk, Receipt.unsigned(CHAIN, other.publicKey(), person.publicKey(),
                receipt.modelDigest(), receipt.adapterDigest(), receipt.requestCommitment(), 42, receipt.outputHash(), 4, 3,
                receipt.timeMillis(), 0).signedBy(other).countersignedBy(person).encode()).code);
        assertEquals("MALFORMED", refused(desk, new byte[12]).code);
        Receipt foreign = Receipt.decode(HexFormat.of().parseHex(issuer.issue(served(brazilian.publicKey().hex(), 3))
                .receipt()));
        assertEquals("WRONG_NATION", refused(desk, foreign.countersignedBy(brazilian).encode()).code);
    }

    private ReceiptDesk.Refusal refused(ReceiptDesk desk, byte[] encoded) {
        return assertThrows(ReceiptDesk.Refusal.class, () -> desk.accept(encoded, chain.state));
    }

    @Test
    void servedRequestsSurviveARestartAndTheOldestGoBeyondTheBound() throws Exception {
        nodeAndPersonOfKenya();
        ServedRequests store = store(3);
        ReceiptDesk desk = desk(store);
        EndpointIssuer issuer = new EndpointIssuer(desk, () -> chain.state);
        IssuedReceipt first = issuer.issue(served(person.publicKey().hex(), 10));
        Thread.sleep(5); // the order of a restart is the files' time
        IssuedReceipt second = issuer.issue(served(person.publicKey().hex(), 11));
        Receipt countersigned = desk.accept(Receipt.decode(HexFormat.of().parseHex(second.receipt())).countersignedBy(person)
                .encode(), chain.state);
        Thread.sleep(5);
        IssuedReceipt third = issuer.issue(served(person.publicKey().hex(), 12));
        store.claimed(List.of(countersigned), 9);
        store.close();
        Path torn = folder.resolve("00".repeat(32) + ".served"); // a crash while the serving path wrote it
        Files.write(torn, new byte[100]);

        ServedRequests restarted = store(3);
        assertEquals(ServedRequests.Stage.ISSUED, restarted.entry(first.id()).orElseThrow().stage());
        assertEquals(ServedRequests.Stage.CLAIMED, restarted.entry(second.id()).orElseThrow().stage());
        assertEquals(9, restarted.entry(second.id()).orElseThrow().claimedHeight());
        assertEquals(1, restarted.claimedSince(9).size());
        assertTrue(Files.notExists(torn), "a torn file is dropped");
        assertEquals(3, restarted.size());
        Thread.sleep(5);
        new EndpointIssuer(desk(restarted), () -> chain.state).issue(served(person.publicKey().hex(), 13));
        assertTrue(restarted.entry(first.id()).isEmpty(), "the oldest went");
        restarted.flush();
        assertTrue(Files.notExists(folder.resolve(first.id() + ".served")));
        assertEquals(3, restarted.size());
        assertTrue(restarted.entry(third.id()).isPresent());
        // the claimed one stays while there are never-countersigned ones to go
        new EndpointIssuer(desk(restarted), () -> chain.state).issue(served(person.publicKey().hex(), 14));
        assertTrue(restarted.entry(third.id()).isEmpty());
        assertTrue(restarted.entry(second.id()).isPresent());
    }

    /** The serving-time overhead of a receipt: build, sign with the node key, keep the request (two small files). */
    @Test
    void issuingAReceiptTakesWellUnderAMillisecond() throws Exception {
        chain.attest(KE_REGISTRY, KE, person.publicKey());
        ServedRequests store = store(100_000);
        EndpointIssuer issuer = new EndpointIssuer(desk(store), () -> chain.state);
        String personHex = person.publicKey().hex();
        for (int i = 0; i < 500; i++) {
            issuer.issue(served(personHex, 1_000 + i)); // warm-up
        }
        int n = 2_000;
        long started = System.nanoTime();
        for (int i = 0; i < n; i++) {
            issuer.issue(served(personHex, 10_000 + i));
        }
        double micros = (System.nanoTime() - started) / 1_000.0 / n;
        store.flush();
        double withWrites = (System.nanoTime() - started) / 1_000.0 / n;
        long signStarted = System.nanoTime();
        byte[] message = new byte[Receipt.BODY_BYTES + 21];
        for (int i = 0; i < n; i++) {
            node.sign(message);
        }
        double signMicros = (System.nanoTime() - signStarted) / 1_000.0 / n;
        Path files = Files.createDirectories(folder.resolve("plain-writes"));
        long writeStarted = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Files.write(files.resolve(i + ".served"), new byte[Receipt.BYTES + 120]);
        }
        double writeMicros = (System.nanoTime() - writeStarted) / 1_000.0 / n;
        System.out.printf("receipt issue: %.1f us per served request on the serving path (of which Ed25519 signing %.1f"
                + " us); with its file written (off the serving path) %.1f us; a plain write of a new %d-byte file alone"
                + " %.1f us%n", micros, signMicros, withWrites, Receipt.BYTES + 120, writeMicros);
        assertTrue(micros < 5_000, micros + " us per receipt");
    }

    /** Chain bytes per served request: a receipt from the endpoint is claimed as it was issued, in claims of 1 to 40. */
    @Test
    void chainBytesPerServedRequestByClaimSize() throws Exception {
        chain.attest(KE_REGISTRY, KE, person.publicKey());
        ServedRequests store = store(100);
        EndpointIssuer issuer = new EndpointIssuer(desk(store), () -> chain.state);
        StringBuilder figures = new StringBuilder("chain bytes per served request:");
        for (int size : new int[] {1, 10, 40}) {
            List<Receipt> receipts = new java.util.ArrayList<>();
            for (int i = 0; i < size; i++) {
                receipts.add(Receipt.decode(HexFormat.of().parseHex(issuer.issue(served(person.publicKey().hex(), 100 * size
                        + i)).receipt())).countersignedBy(person));
            }
            int bytes = org.commonweal.ledger.TransactionCodec.encode(chain.claim(node, receipts.toArray(Receipt[]::new)))
                    .length;
            figures.append(String.format(" claims of %d: %d;", size, bytes / size));
            assertTrue(bytes / size >= Receipt.BYTES);
        }
        System.out.println(figures);
    }
}
