package org.commonweal.benefit.internal;

import static org.commonweal.benefit.internal.BenefitHarness.CHAIN;
import static org.commonweal.benefit.internal.BenefitHarness.KE;
import static org.commonweal.benefit.internal.BenefitHarness.KE_REGISTRY;
import static org.commonweal.benefit.internal.BenefitHarness.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitPayloads.Verdict;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.BenefitState.Audit;
import org.commonweal.benefit.BenefitState.Phase;
import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealCipher;
import org.commonweal.benefit.RevealedRequest;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.Sha256;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Rejection.Reason;
import org.commonweal.ledger.Transaction;
import org.junit.jupiter.api.Test;

/**
 * Verification by re-execution on a ledger state, block by block: sampling, deadlines, slashing, false accusations,
 * held rewards, unstaking and every refusal's reason.
 */
class AuditTest {

    /** Every receipt sampled; 6 blocks to reveal, attest and dispute; 10% slashed; unbonding 30 blocks. */
    static final BenefitParameters.Audit ALL = new BenefitParameters.Audit(1_000_000, 6, 6, 6, 100_000, 30);
    static final long STAKE = 10_000;
    static final long EMISSION = 1_000;

    final PrivateKey server = key("audit-server");
    final PrivateKey auditorOne = key("audit-auditor-1");
    final PrivateKey auditorTwo = key("audit-auditor-2");
    final PrivateKey person = key("audit-person");
    final Map<PublicKey, PrivateKey> byPublic = new HashMap<>();
    BenefitHarness chain;

    AuditTest() throws Rejection {
        chain = network(ALL);
    }

    static AuditTest with(BenefitParameters.Audit audit) throws Rejection {
        AuditTest test = new AuditTest();
        test.chain = test.network(audit);
        return test;
    }

    /** Three registered, staked nodes (two with audit keys) and a person, all of nation KE. */
    private BenefitHarness network(BenefitParameters.Audit audit) throws Rejection {
        BenefitParameters base = BenefitHarness.parameters(100_000, EMISSION, 1_000_000, Long.MAX_VALUE);
        BenefitParameters parameters = new BenefitParameters(base.nations(), base.approvers(), base.allowanceTokens(),
                base.initialEmission(), base.halvingInterval(), base.supplyCap(), base.minStake(), base.categoryWeights(),
                base.localPerReceipt(), base.localDailyCap(), base.activationHeight(), audit);
        BenefitHarness chain = new BenefitHarness(parameters, Map.of(server.publicKey(), 100_000L, auditorOne.publicKey(), 100_000L,
                auditorTwo.publicKey(), 100_000L));
        chain.attest(KE_REGISTRY, KE, person.publicKey());
        for (PrivateKey node : List.of(server, auditorOne, auditorTwo)) {
            byPublic.put(node.publicKey(), node);
            chain.registerNode(KE_REGISTRY, KE, node, STAKE);
        }
        chain.block(chain.tx(auditorOne, BenefitPayloads.AUDIT_KEY, new BenefitPayloads.AuditKey(auditKey(auditorOne)).encode()));
        chain.block(chain.tx(auditorTwo, BenefitPayloads.AUDIT_KEY, new BenefitPayloads.AuditKey(auditKey(auditorTwo)).encode()));
        return chain;
    }

    static byte[] auditSecret(PrivateKey node) {
        return RevealCipher.auditSecret(node.sign(RevealCipher.AUDIT_KEY_MESSAGE));
    }

    static byte[] auditKey(PrivateKey node) {
        return RevealCipher.publicKey(auditSecret(node));
    }

    static int served;

    /** A request the server served: its receipt commits to it (the output may be altered). */
    static RevealedRequest request(int[] output) {
        return new RevealedRequest(new int[] {1, 2, 3, served++}, 0, 0, 1, 0, 1, 0, 0, 0, 8, List.of("\n"), "", output);
    }

    Receipt receipt(RevealedRequest request) {
        return Receipt.unsigned(CHAIN, server.publicKey(), person.publicKey(), Sha256.hash(new byte[] {1}), new byte[32],
                request.commitment(), 42, request.outputHash(), 4, request.output().length, chain.time, 0).signedBy(server)
                .countersignedBy(person);
    }

    /** Claims the receipt and runs the next block, which samples it; the audit, if any. */
    Audit claimAndSample(Receipt receipt) throws Rejection {
        chain.block(chain.claim(server, receipt));
        chain.block();
        return BenefitState.audit(chain.state, receipt.id()).orElse(null);
    }

    static final byte[] EPHEMERAL = Sha256.hash(new byte[] {9});

    Transaction reveal(Audit audit, RevealedRequest request) {
        byte[] sealed = RevealCipher.seal(BenefitState.auditKey(chain.state, audit.auditor()).orElseThrow(),
                audit.receiptId(), request.encode(), EPHEMERAL);
        return chain.tx(server, BenefitPayloads.REVEAL, new BenefitPayloads.Reveal(audit.receiptId(), sealed).encode());
    }

    /** What an honest attester does: open the reveal, "re-run" it (here: {@code rerun}), compare the hash. */
    Transaction attest(PrivateKey attester, Audit audit, int[] rerun) {
        byte[] hash = RevealedRequest.outputHash(rerun);
        Verdict verdict = java.util.Arrays.equals(hash, audit.receipt().outputHash()) ? Verdict.MATCH : Verdict.MISMATCH;
        return chain.tx(attester, BenefitPayloads.ATTEST, new BenefitPayloads.Attestation(audit.receiptId(), verdict, hash)
                .encode());
    }

    PrivateKey auditorOf(Audit audit) {
        return byPublic.get(audit.auditor());
    }

    long stake(PrivateKey node) {
        return BenefitState.node(chain.state, node.publicKey()).orElseThrow().stake();
    }

    void blocks(int n) throws Rejection {
        for (int i = 0; i < n; i++) {
            chain.block();
        }
    }

    @Test
    void anHonestNodeIsSampledRevealsIsAuditedAndIsPaidAfterTheHold() throws Exception {
        int[] output = {7, 8, 9};
        RevealedRequest request = request(output);
        Receipt receipt = receipt(request);
        long before = chain.state.account(server.publicKey()).balance();
        Audit audit = claimAndSample(receipt);
        assertEquals(Phase.SAMPLED, audit.phase());
        assertNotEquals(server.publicKey(), audit.auditor());
        assertEquals(chain.height + ALL.revealBlocks(), audit.deadline());
        assertEquals(EMISSION, BenefitState.heldRewards(chain.state, server.publicKey()), "the reward is held");
        assertEquals(before, chain.state.account(server.publicKey()).balance());

        chain.block(reveal(audit, request));
        Audit revealed = BenefitState.audit(chain.state, receipt.id()).orElseThrow();
        assertEquals(Phase.REVEALED, revealed.phase());
        // the auditor, and only it, opens the reveal into the very request
        byte[] sealed = BenefitState.sealedReveal(chain.state, revealed).orElseThrow();
        assertEquals(request, RevealedRequest.decode(RevealCipher.open(auditSecret(auditorOf(audit)), receipt.id(), sealed)));
        PrivateKey other = auditorOf(audit) == auditorOne ? auditorTwo : auditorOne;
        assertThrowsCipher(() -> RevealCipher.open(auditSecret(other), receipt.id(), sealed));

        assertEquals(Reason.UNAUTHORIZED, chain.refused(attest(other, revealed, output)));
        chain.block(attest(auditorOf(audit), revealed, output));
        assertTrue(BenefitState.audit(chain.state, receipt.id()).isEmpty(), "a match closes the audit");
        assertTrue(chain.state.entries(BenefitState.REVEAL, new byte[0], 10).isEmpty(), "the reveal is forgotten");
        assertEquals(new BenefitState.Record(1, 0, 0, 0), BenefitState.record(chain.state, server.publicKey()));

        blocks((int) ALL.holdBlocks());
        assertEquals(0, BenefitState.heldRewards(chain.state, server.publicKey()));
        assertEquals(EMISSION, BenefitState.rewards(chain.state, server.publicKey()));
        assertEquals(before + EMISSION, chain.state.account(server.publicKey()).balance());
        assertEquals(STAKE, stake(server));
    }

    @Test
    void aMissingRevealVoidsTheHeldRewardsAndSlashesTheStake() throws Exception {
        Receipt receipt = receipt(request(new int[] {5}));
        long minted = BenefitState.minted(chain.state);
        claimAndSample(receipt);
        assertEquals(minted + EMISSION, BenefitState.minted(chain.state));
        long stakeAccount = chain.state.account(BenefitState.STAKE_ACCOUNT).balance();
        long supply = chain.state.totalSupply();
        blocks((int) ALL.revealBlocks() + 1);

        assertTrue(BenefitState.audit(chain.state, receipt.id()).isEmpty());
        assertEquals(STAKE - STAKE / 10, stake(server));
        assertEquals(new BenefitState.Record(0, 1, STAKE / 10, 0), BenefitState.record(chain.state, server.publicKey()));
        assertEquals(0, BenefitState.heldRewards(chain.state, server.publicKey()), "the held reward is void");
        assertEquals(minted, BenefitState.minted(chain.state), "a voided reward is never minted");
        assertEquals(STAKE / 10, BenefitState.slashed(chain.state));
        assertEquals(stakeAccount - STAKE / 10, chain.state.account(BenefitState.STAKE_ACCOUNT).balance(), "slashed coins burn");
        assertEquals(supply - STAKE / 10, chain.state.totalSupply());
        blocks((int) ALL.holdBlocks());
        assertEquals(0, BenefitState.rewards(chain.state, server.publicKey()));
        // too late now
        assertEquals(Reason.WRONG_PHASE, chain.refused(chain.tx(server, BenefitPayloads.REVEAL,
                new BenefitPayloads.Reveal(receipt.id(), new byte[64]).encode())));
    }

    @Test
    void anAlteredOutputIsAccusedAndUndisputedIsSlashed() throws Exception {
        int[] served = {4, 4, 4};
        int[] honest = {4, 4, 5};
        RevealedRequest request = request(served);
        Audit audit = claimAndSample(receipt(request));
        chain.block(reveal(audit, request));
        Audit revealed = BenefitState.audit(chain.state, audit.receiptId()).orElseThrow();
        chain.block(attest(auditorOf(audit), revealed, honest));
        Audit accused = BenefitState.audit(chain.state, audit.receiptId()).orElseThrow();
        assertEquals(Phase.ACCUSED, accused.phase());
        assertArrayEquals(RevealedRequest.outputHash(honest), accused.accusedHash());
        blocks((int) ALL.disputeBlocks() + 1);
        assertTrue(BenefitState.audit(chain.state, audit.receiptId()).isEmpty());
        assertEquals(1, BenefitState.record(chain.state, server.publicKey()).faults());
        assertEquals(STAKE - STAKE / 10, stake(server));
        assertEquals(STAKE, stake(auditorOf(audit)), "the auditor was right");
        blocks((int) ALL.holdBlocks());
        assertEquals(0, BenefitState.rewards(chain.state, server.publicKey()));
    }

    @Test
    void aFalseAccusationIsDisputedAndTheRefereeSlashesTheAccuser() throws Exception {
        int[] output = {1, 1, 2};
        RevealedRequest request = request(output);
        Audit audit = claimAndSample(receipt(request));
        PrivateKey accuser = auditorOf(audit);
        chain.block(reveal(audit, request));
        chain.block(attest(accuser, BenefitState.audit(chain.state, audit.receiptId()).orElseThrow(), new int[] {6, 6}));
        assertEquals(Phase.ACCUSED, BenefitState.audit(chain.state, audit.receiptId()).orElseThrow().phase());

        // a wrong secret opens nothing; the right one makes the reveal public and calls the referee
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.tx(server, BenefitPayloads.DISPUTE,
                new BenefitPayloads.Dispute(audit.receiptId(), Sha256.hash(new byte[] {8})).encode())));
        assertEquals(Reason.UNAUTHORIZED, chain.refused(chain.tx(accuser, BenefitPayloads.DISPUTE,
                new BenefitPayloads.Dispute(audit.receiptId(), EPHEMERAL).encode())));
        chain.block(chain.tx(server, BenefitPayloads.DISPUTE, new BenefitPayloads.Dispute(audit.receiptId(), EPHEMERAL)
                .encode()));
        Audit disputed = BenefitState.audit(chain.state, audit.receiptId()).orElseThrow();
        assertEquals(Phase.DISPUTED, disputed.phase());
        PrivateKey referee = byPublic.get(disputed.referee());
        assertTrue(referee != null && referee != accuser && referee != server);
        // anyone can read the public request now
        assertEquals(request, RevealedRequest.decode(RevealCipher.openDisclosed(disputed.disclosedSecret(), disputed.sealedTo(),
                disputed.receiptId(), BenefitState.sealedReveal(chain.state, disputed).orElseThrow())));
        assertEquals(Reason.UNAUTHORIZED, chain.refused(attest(accuser, disputed, output)));

        chain.block(attest(referee, disputed, output));
        assertTrue(BenefitState.audit(chain.state, audit.receiptId()).isEmpty());
        assertEquals(new BenefitState.Record(0, 0, STAKE / 10, 1), BenefitState.record(chain.state, accuser.publicKey()));
        assertEquals(STAKE - STAKE / 10, stake(accuser));
        assertEquals(new BenefitState.Record(1, 0, 0, 0), BenefitState.record(chain.state, server.publicKey()));
        blocks((int) ALL.holdBlocks());
        assertEquals(EMISSION, BenefitState.rewards(chain.state, server.publicKey()));
    }

    @Test
    void aRefereeConfirmingTheMismatchSlashesTheNode() throws Exception {
        RevealedRequest request = request(new int[] {3});
        Audit audit = claimAndSample(receipt(request));
        chain.block(reveal(audit, request));
        chain.block(attest(auditorOf(audit), BenefitState.audit(chain.state, audit.receiptId()).orElseThrow(), new int[] {2}));
        chain.block(chain.tx(server, BenefitPayloads.DISPUTE, new BenefitPayloads.Dispute(audit.receiptId(), EPHEMERAL)
                .encode()));
        Audit disputed = BenefitState.audit(chain.state, audit.receiptId()).orElseThrow();
        chain.block(attest(byPublic.get(disputed.referee()), disputed, new int[] {2}));
        assertEquals(1, BenefitState.record(chain.state, server.publicKey()).faults());
        assertEquals(0, BenefitState.record(chain.state, auditorOf(audit).publicKey()).falseAccusations());
        assertEquals(STAKE - STAKE / 10, stake(server));
    }

    @Test
    void aRevealThatDoesNotMatchItsReceiptCannotBeDisputed() throws Exception {
        RevealedRequest served = request(new int[] {1});
        Audit audit = claimAndSample(receipt(served));
        RevealedRequest other = new RevealedRequest(served.prompt(), 0, 0, 1, 0, 1, 0, 0, 0, 8, List.of("\n"), "",
                new int[] {2});
        chain.block(reveal(audit, other));
        chain.block(attest(auditorOf(audit), BenefitState.audit(chain.state, audit.receiptId()).orElseThrow(), new int[] {2}));
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.tx(server, BenefitPayloads.DISPUTE,
                new BenefitPayloads.Dispute(audit.receiptId(), EPHEMERAL).encode())));
    }

    @Test
    void stepsOutOfTurnOrTooLateAreRefusedWithTheirReason() throws Exception {
        RevealedRequest request = request(new int[] {1, 2});
        Audit audit = claimAndSample(receipt(request));
        // attest or dispute before the reveal
        assertEquals(Reason.WRONG_PHASE, chain.refused(attest(auditorOf(audit), audit, new int[] {1, 2})));
        assertEquals(Reason.WRONG_PHASE, chain.refused(chain.tx(server, BenefitPayloads.DISPUTE,
                new BenefitPayloads.Dispute(audit.receiptId(), EPHEMERAL).encode())));
        // a reveal by another node, of an unsampled receipt, too short
        assertEquals(Reason.UNAUTHORIZED, chain.refused(chain.tx(auditorOne, BenefitPayloads.REVEAL,
                new BenefitPayloads.Reveal(audit.receiptId(), new byte[64]).encode())));
        assertEquals(Reason.WRONG_PHASE, chain.refused(chain.tx(server, BenefitPayloads.REVEAL,
                new BenefitPayloads.Reveal(Sha256.hash(new byte[] {1}), new byte[64]).encode())));
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.tx(server, BenefitPayloads.REVEAL,
                ByteBuffer.allocate(40).put(audit.receiptId()).array())));
        assertEquals(Reason.OVERSIZED, chain.refused(chain.tx(server, BenefitPayloads.REVEAL, new byte[32
                + BenefitPayloads.MAX_SEALED_REVEAL + 1])));
        // the last block the reveal is allowed in is the deadline; after it
        blocks((int) (audit.deadline() - chain.height));
        Transaction late = reveal(audit, request);
        assertEquals(Reason.DEADLINE_PASSED, chain.refused(late));

        RevealedRequest second = request(new int[] {3});
        Audit another = claimAndSample(receipt(second));
        chain.block(reveal(another, second));
        Audit revealed = BenefitState.audit(chain.state, another.receiptId()).orElseThrow();
        // a verdict that contradicts its own hash
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.tx(auditorOf(another), BenefitPayloads.ATTEST,
                new BenefitPayloads.Attestation(another.receiptId(), Verdict.MATCH, Sha256.hash(new byte[0])).encode())));
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.tx(auditorOf(another), BenefitPayloads.ATTEST,
                new BenefitPayloads.Attestation(another.receiptId(), Verdict.MISMATCH, revealed.receipt().outputHash())
                        .encode())));
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.tx(auditorOf(another), BenefitPayloads.ATTEST, new byte[65])));
        assertEquals(Reason.WRONG_PHASE, chain.refused(chain.tx(server, BenefitPayloads.REVEAL,
                new BenefitPayloads.Reveal(another.receiptId(), new byte[64]).encode())));
        // an auditor that does not attest in time: nobody is punished, the node is paid
        blocks((int) ALL.attestBlocks() + 1);
        assertTrue(BenefitState.audit(chain.state, another.receiptId()).isEmpty());
        assertEquals(Reason.WRONG_PHASE, chain.refused(attest(auditorOf(another), revealed, new int[] {3})));
        assertEquals(STAKE, stake(auditorOf(another)));

        // keys and unstaking
        PrivateKey stranger = key("audit-stranger");
        assertEquals(Reason.NOT_REGISTERED, chain.refused(chain.tx(stranger, BenefitPayloads.AUDIT_KEY,
                new BenefitPayloads.AuditKey(auditKey(stranger)).encode())));
        assertEquals(Reason.INVALID_PAYLOAD, chain.refused(chain.tx(server, BenefitPayloads.AUDIT_KEY,
                new BenefitPayloads.AuditKey(new byte[32]).encode())));
        assertEquals(Reason.INSUFFICIENT_FUNDS, chain.refused(chain.tx(auditorOne, BenefitPayloads.UNSTAKE,
                new BenefitPayloads.Unstake(STAKE + 1).encode())));
        assertEquals(Reason.NOT_REGISTERED, chain.refused(chain.tx(stranger, BenefitPayloads.UNSTAKE,
                new BenefitPayloads.Unstake(1).encode())));
    }

    @Test
    void unstakedCoinsArePaidBackAfterTheUnbondingDelayAndStaySlashableUntilThen() throws Exception {
        long balance = chain.state.account(auditorOne.publicKey()).balance();
        chain.block(chain.tx(auditorOne, BenefitPayloads.UNSTAKE, new BenefitPayloads.Unstake(4_000).encode()));
        assertEquals(STAKE - 4_000, stake(auditorOne));
        assertEquals(4_000, BenefitState.unbonding(chain.state, auditorOne.publicKey()));
        blocks((int) ALL.unbondingBlocks() - 1);
        assertEquals(balance, chain.state.account(auditorOne.publicKey()).balance());
        chain.block();
        assertEquals(balance + 4_000, chain.state.account(auditorOne.publicKey()).balance());
        assertEquals(0, BenefitState.unbonding(chain.state, auditorOne.publicKey()));

        // the server unstakes everything right after a claim: the missing reveal still costs it
        Receipt receipt = receipt(request(new int[] {1}));
        chain.block(chain.claim(server, receipt));
        chain.block(chain.tx(server, BenefitPayloads.UNSTAKE, new BenefitPayloads.Unstake(STAKE).encode()));
        blocks((int) ALL.revealBlocks() + 1);
        assertEquals(STAKE - STAKE / 10, BenefitState.unbonding(chain.state, server.publicKey()));
        assertEquals(1, BenefitState.record(chain.state, server.publicKey()).faults());
    }

    @Test
    void theSampleFollowsTheRateAndIsTheSameOnEveryNode() throws Exception {
        BenefitParameters.Audit half = new BenefitParameters.Audit(500_000, 6, 6, 6, 100_000, 30);
        AuditTest one = with(half);
        AuditTest two = with(half);
        int sampled = 0;
        int byOne = 0;
        List<Receipt> receipts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            receipts.add(one.receipt(request(new int[] {i})));
        }
        // five claims of 40 in one block, sampled by the next
        for (AuditTest node : List.of(one, two)) {
            List<java.util.function.Supplier<Transaction>> claims = new ArrayList<>();
            for (int c = 0; c < 5; c++) {
                List<Receipt> batch = receipts.subList(40 * c, 40 * c + 40);
                claims.add(() -> node.chain.tx(server, BenefitPayloads.CLAIM, new BenefitPayloads.Claim(batch).encode()));
            }
            node.chain.blockOf(claims);
            node.chain.block();
        }
        for (Receipt receipt : receipts) {
            var audit = BenefitState.audit(one.chain.state, receipt.id());
            if (audit.isPresent()) {
                sampled++;
                byOne += audit.get().auditor().equals(auditorOne.publicKey()) ? 1 : 0;
                assertNotEquals(server.publicKey(), audit.get().auditor());
            }
        }
        assertArrayEquals(one.chain.state.root(), two.chain.state.root(), "the same blocks sample the same receipts");
        assertTrue(sampled > 60 && sampled < 140, sampled + " of 200 sampled at 50%");
        assertTrue(byOne > sampled / 4 && byOne < sampled * 3 / 4, byOne + " of " + sampled + " audited by one of two");
        assertTrue(one.chain.state.entries(BenefitState.SAMPLE, new byte[0], 1).isEmpty(), "nothing waits to be sampled");
        assertTrue(one.chain.state.entries(Audits.SAMPLE_SEED, new byte[0], 1).isEmpty(), "no seed is left behind");

        AuditTest none = with(new BenefitParameters.Audit(0, 6, 6, 6, 100_000, 0));
        assertFalse(none.claimAndSample(none.receipt(request(new int[] {1}))) != null, "rate 0 samples nothing");
        assertEquals(EMISSION, BenefitState.rewards(none.chain.state, server.publicKey()), "rate 0 pays at once");
    }

    @Test
    void withoutAnotherAuditorNothingIsAudited() throws Exception {
        BenefitParameters base = BenefitHarness.parameters(100_000, EMISSION, 1_000_000, Long.MAX_VALUE);
        BenefitHarness alone = new BenefitHarness(new BenefitParameters(base.nations(), base.approvers(),
                base.allowanceTokens(), base.initialEmission(), base.halvingInterval(), base.supplyCap(), base.minStake(),
                base.categoryWeights(), base.localPerReceipt(), base.localDailyCap(), 1, ALL), Map.of(server.publicKey(),
                        100_000L));
        alone.attest(KE_REGISTRY, KE, person.publicKey());
        alone.registerNode(KE_REGISTRY, KE, server, STAKE);
        alone.block(alone.tx(server, BenefitPayloads.AUDIT_KEY, new BenefitPayloads.AuditKey(auditKey(server)).encode()));
        Receipt receipt = Receipt.unsigned(CHAIN, server.publicKey(), person.publicKey(), new byte[32], new byte[32],
                new byte[32], 1, new byte[32], 1, 1, alone.time, 0).signedBy(server).countersignedBy(person);
        alone.block(alone.claim(server, receipt));
        alone.block();
        assertTrue(BenefitState.audit(alone.state, receipt.id()).isEmpty(), "a node never audits itself");
    }

    private static void assertThrowsCipher(org.junit.jupiter.api.function.Executable executable) {
        org.junit.jupiter.api.Assertions.assertThrows(org.bouncycastle.crypto.InvalidCipherTextException.class, executable);
    }
}
