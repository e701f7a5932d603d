package org.commonweal.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.SignatureBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class MempoolTest {

    private static final int CHAIN = 5;
    private static final SignatureBatch SIGNATURES = new SignatureBatch(2);
    private static final PrivateKey ALICE = key(1);
    private static final PrivateKey BOB = key(2);
    private static final PrivateKey CAROL = key(3);
    private static final PrivateKey PROPOSER = key(4);

    @AfterAll
    static void close() {
        SIGNATURES.close();
    }

    private static PrivateKey key(int i) {
        byte[] seed = new byte[32];
        seed[0] = (byte) i;
        return Ed25519.fromSeed(seed);
    }

    private static LedgerState state() {
        return LedgerState.genesis(CHAIN, Map.of(ALICE.publicKey(), 10_000L, BOB.publicKey(), 10_000L, CAROL.publicKey(), 5L));
    }

    private static Transaction tx(PrivateKey from, long nonce, long fee) {
        return TransactionCodec.sign(from, CHAIN, nonce, fee, Transfer.TYPE, new Transfer(PROPOSER.publicKey(), 1).encode());
    }

    private static Mempool pool(int max) {
        return new Mempool(new Mempool.Limits(max, 1L << 20, 8, 60_000), SIGNATURES);
    }

    private static List<Mempool.Outcome> outcomes(List<Mempool.Admission> admissions) {
        return admissions.stream().map(Mempool.Admission::outcome).toList();
    }

    @Test
    void admitsOnceAndReplacesOnlyForAHigherFee() {
        Mempool pool = pool(100);
        Transaction first = tx(ALICE, 0, 5);
        assertEquals(List.of(Mempool.Outcome.ACCEPTED, Mempool.Outcome.DUPLICATE, Mempool.Outcome.DUPLICATE,
                Mempool.Outcome.REPLACED_LOWER_FEE), outcomes(pool.submit(List.of(first, first, tx(ALICE, 0, 5), tx(ALICE, 0, 6)),
                state(), 0)));
        assertEquals(1, pool.size());
        assertEquals(6, pool.select(state(), 10).getFirst().fee());
    }

    @Test
    void theSendersNextTransactionMustApplyInFullButALaterOneWaits() {
        Mempool pool = pool(100);
        Transaction overdraft = TransactionCodec.sign(CAROL, CHAIN, 0, 1, Transfer.TYPE, new Transfer(BOB.publicKey(), 50).encode());
        Transaction toSelf = TransactionCodec.sign(ALICE, CHAIN, 0, 1, Transfer.TYPE, new Transfer(ALICE.publicKey(), 5).encode());
        Transaction later = TransactionCodec.sign(CAROL, CHAIN, 1, 1, Transfer.TYPE, new Transfer(BOB.publicKey(), 50).encode());
        List<Mempool.Admission> admissions = pool.submit(List.of(overdraft, toSelf, later), state(), 0);
        assertEquals(Rejection.Reason.INSUFFICIENT_FUNDS, admissions.get(0).rejection().reason());
        assertEquals(Rejection.Reason.INVALID_PAYLOAD, admissions.get(1).rejection().reason());
        assertEquals(Mempool.Outcome.ACCEPTED, admissions.get(2).outcome(), "Carol may be paid before nonce 1 runs");
        assertEquals(1, pool.size());
    }

    @Test
    void refusesWhatCannotApplyNamingTheReason() {
        Mempool pool = pool(100);
        Transaction forged = tx(BOB, 0, 1);
        byte[] signature = forged.signature();
        signature[0] ^= 1;
        List<Transaction> bad = List.of(
                new Transaction(CHAIN, BOB.publicKey(), 0, 1, Transfer.TYPE, forged.payload(), signature),
                TransactionCodec.sign(ALICE, CHAIN + 1, 0, 1, Transfer.TYPE, new Transfer(BOB.publicKey(), 1).encode()),
                tx(ALICE, 8, 1),
                tx(CAROL, 0, 6));
        List<Rejection.Reason> reasons = new ArrayList<>();
        for (Mempool.Admission admission : pool.submit(bad, state(), 0)) {
            assertEquals(Mempool.Outcome.REJECTED, admission.outcome());
            reasons.add(admission.rejection().reason());
        }
        assertEquals(List.of(Rejection.Reason.BAD_SIGNATURE, Rejection.Reason.WRONG_CHAIN, Rejection.Reason.NONCE_GAP,
                Rejection.Reason.INSUFFICIENT_FUNDS), reasons);
        assertEquals(0, pool.size());
    }

    @Test
    void selectsByFeeButEachSenderInNonceOrderStoppingAtAGap() {
        Mempool pool = pool(100);
        pool.submit(List.of(tx(ALICE, 1, 50), tx(ALICE, 0, 1), tx(BOB, 0, 10), tx(BOB, 1, 9), tx(BOB, 3, 99)), state(), 0);
        List<Transaction> selected = pool.select(state(), 10);
        List<String> order = selected.stream().map(t -> (t.sender().equals(ALICE.publicKey()) ? "A" : "B") + t.nonce()).toList();
        assertEquals(List.of("B0", "B1", "A0", "A1"), order, "Bob's 10 before Alice's 1; Alice's 50 waits for her nonce 0;"
                + " Bob's nonce 3 waits for 2");
        assertEquals(List.of("B0", "B1"), pool.select(state(), 2).stream()
                .map(t -> (t.sender().equals(ALICE.publicKey()) ? "A" : "B") + t.nonce()).toList());
    }

    @Test
    void onlyATransactionThatAppliesNextMakesThePoolReady() {
        Mempool pool = pool(100);
        assertFalse(pool.hasReady(state()), "empty");
        pool.submit(List.of(tx(BOB, 3, 99)), state(), 0);
        assertEquals(1, pool.size());
        assertFalse(pool.hasReady(state()), "Bob's nonce 3 waits for 0, 1 and 2");
        pool.submit(List.of(tx(BOB, 0, 1)), state(), 0);
        assertTrue(pool.hasReady(state()));
    }

    @Test
    void whenFullAHigherFeeEvictsTheLowestElseTheSubmitterBacksOff() {
        Mempool pool = pool(2);
        pool.submit(List.of(tx(ALICE, 0, 5), tx(BOB, 0, 3)), state(), 0);
        assertEquals(List.of(Mempool.Outcome.FULL), outcomes(pool.submit(List.of(tx(ALICE, 1, 2)), state(), 0)));
        assertEquals(List.of(Mempool.Outcome.ACCEPTED), outcomes(pool.submit(List.of(tx(ALICE, 1, 9)), state(), 0)));
        assertEquals(2, pool.size());
        assertTrue(pool.select(state(), 10).stream().noneMatch(t -> t.sender().equals(BOB.publicKey())), "Bob's 3 was evicted");
        assertTrue(pool.bytes() > 0);
    }

    @Test
    void afterABlockWhatItIncludedAndWhatExpiredLeaves() throws Rejection {
        Mempool pool = pool(100);
        LedgerState state = state();
        pool.submit(List.of(tx(ALICE, 0, 2), tx(ALICE, 1, 2), tx(BOB, 0, 1)), state, 0);
        Block genesis = Block.genesis(CHAIN, Map.of(ALICE.publicKey(), 10_000L, BOB.publicKey(), 10_000L, CAROL.publicKey(), 5L),
                0, PROPOSER.publicKey());
        BlockExecution.Result result = BlockExecution.propose(state, genesis.header(), pool.select(state, 2),
                PROPOSER.publicKey(), 1_000, 2, true);
        LedgerState next = BlockExecution.validate(state, genesis.header(), result.block(), false);
        pool.prune(next, 1_000);
        assertEquals(1, pool.size(), "Alice's two were included; Bob's waits");
        pool.prune(next, 1_000 + 60_001);
        assertEquals(0, pool.size(), "Bob's expired");
    }
}
