package org.commonweal.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.junit.jupiter.api.Test;

class LedgerStateTest {

    private static final int CHAIN = 7;

    private static PrivateKey key(int i) {
        byte[] seed = new byte[32];
        seed[0] = (byte) i;
        seed[1] = (byte) (i >> 8);
        return Ed25519.fromSeed(seed);
    }

    private static final PrivateKey ALICE = key(1);
    private static final PrivateKey BOB = key(2);
    private static final PrivateKey PROPOSER = key(3);

    private static LedgerState genesis() {
        return LedgerState.genesis(CHAIN, Map.of(ALICE.publicKey(), 1_000L, BOB.publicKey(), 50L));
    }

    private static Transaction transfer(PrivateKey from, PublicKey to, long amount, long nonce, long fee) {
        return TransactionCodec.sign(from, CHAIN, nonce, fee, Transfer.TYPE, new Transfer(to, amount).encode());
    }

    @Test
    void aTransferMovesTheAmountPaysTheFeeAndAdvancesTheNonce() throws Rejection {
        LedgerState state = genesis();
        state.apply(transfer(ALICE, BOB.publicKey(), 300, 0, 2), PROPOSER.publicKey(), false);
        assertEquals(new Account(698, 1), state.account(ALICE.publicKey()));
        assertEquals(new Account(350, 0), state.account(BOB.publicKey()));
        assertEquals(new Account(2, 0), state.account(PROPOSER.publicKey()));
        assertEquals(1_050, state.totalSupply());
    }

    @Test
    void everyRejectionNamesItsReasonAndChangesNothing() {
        LedgerState state = genesis();
        byte[] root = state.root();
        Transaction good = transfer(ALICE, BOB.publicKey(), 10, 0, 1);
        byte[] badSignature = good.signature();
        badSignature[5] ^= 1;
        Map<Rejection.Reason, Transaction> cases = new LinkedHashMap<>();
        cases.put(Rejection.Reason.WRONG_CHAIN, TransactionCodec.sign(ALICE, CHAIN + 1, 0, 1, Transfer.TYPE,
                new Transfer(BOB.publicKey(), 10).encode()));
        cases.put(Rejection.Reason.BAD_SIGNATURE, new Transaction(CHAIN, ALICE.publicKey(), 0, 1, Transfer.TYPE,
                good.payload(), badSignature));
        cases.put(Rejection.Reason.UNKNOWN_PAYLOAD_TYPE, TransactionCodec.sign(ALICE, CHAIN, 0, 1, 99, new byte[3]));
        cases.put(Rejection.Reason.INVALID_PAYLOAD, transfer(ALICE, ALICE.publicKey(), 10, 0, 1));
        cases.put(Rejection.Reason.NONCE_GAP, transfer(ALICE, BOB.publicKey(), 10, 1, 1));
        cases.put(Rejection.Reason.INSUFFICIENT_FUNDS, transfer(BOB, ALICE.publicKey(), 50, 0, 1));
        cases.put(Rejection.Reason.OVERFLOW, transfer(ALICE, BOB.publicKey(), Long.MAX_VALUE, 0, 1));
        for (Map.Entry<Rejection.Reason, Transaction> c : cases.entrySet()) {
            Rejection rejection = assertThrows(Rejection.class, () -> state.apply(c.getValue(), PROPOSER.publicKey(), false),
                    c.getKey().toString());
            assertEquals(c.getKey(), rejection.reason(), rejection.getMessage());
            assertTrue(rejection.getMessage().startsWith(c.getKey() + ": "), rejection.getMessage());
            assertArrayEquals(root, state.root(), c.getKey() + " changed the state");
        }
        Rejection.Reason replayed = assertThrows(Rejection.class, () -> {
            state.apply(good, PROPOSER.publicKey(), false);
            state.apply(good, PROPOSER.publicKey(), false);
        }).reason();
        assertEquals(Rejection.Reason.NONCE_REPLAYED, replayed);
    }

    @Test
    void randomHistoriesConserveSupplyAndReplayToTheSameRoot() {
        Random random = new Random(11);
        List<PrivateKey> keys = new ArrayList<>();
        Map<PublicKey, Long> balances = new LinkedHashMap<>();
        for (int i = 0; i < 20; i++) {
            keys.add(key(100 + i));
            if (i < 12) {
                balances.put(keys.get(i).publicKey(), 1 + (long) random.nextInt(10_000));
            }
        }
        LedgerState state = LedgerState.genesis(CHAIN, balances);
        long supply = state.totalSupply();
        long[] nonces = new long[keys.size()];
        List<Transaction> history = new ArrayList<>();
        int applied = 0;
        for (int i = 0; i < 3_000; i++) {
            int from = random.nextInt(keys.size());
            int to = random.nextInt(keys.size());
            long nonce = random.nextInt(10) == 0 ? nonces[from] + random.nextInt(3) - 1 : nonces[from];
            long amount = 1 + random.nextInt(random.nextBoolean() ? 100 : 20_000);
            Transaction tx = transfer(keys.get(from), keys.get(to).publicKey(), amount, Math.max(0, nonce), random.nextInt(5));
            history.add(tx);
            try {
                state.apply(tx, keys.get(random.nextInt(keys.size())).publicKey(), true);
                nonces[from]++;
                applied++;
            } catch (Rejection rejected) {
                // a random history has many; the state must be unchanged, which the supply check covers in part
            }
            assertEquals(supply, state.totalSupply(), "supply after transaction " + i);
        }
        assertTrue(applied > 500 && applied < 2_900, "a mix of applied (" + applied + ") and rejected transactions");

        // Two more nodes replay the same history from genesis: same results, same root.
        LedgerState replay = LedgerState.genesis(CHAIN, balances);
        LedgerState other = LedgerState.genesis(CHAIN, balances);
        assertArrayEquals(replay.root(), other.root());
        List<Rejection> first = replay.applyAll(history, PROPOSER.publicKey(), true);
        List<Rejection> second = other.applyAll(history, PROPOSER.publicKey(), true);
        assertArrayEquals(replay.root(), other.root());
        for (int i = 0; i < first.size(); i++) {
            assertEquals(first.get(i) == null ? null : first.get(i).reason(),
                    second.get(i) == null ? null : second.get(i).reason(), "result of transaction " + i);
        }
        assertEquals(supply, replay.totalSupply());
    }

    @Test
    void everyAccountProvesAgainstTheRootAndCountOnly() throws Rejection {
        LedgerState state = genesis();
        state.apply(transfer(ALICE, PROPOSER.publicKey(), 5, 0, 0), PROPOSER.publicKey(), false);
        byte[] root = state.root();
        for (PublicKey key : state.accounts().keySet()) {
            AccountProof proof = state.prove(key);
            assertTrue(proof.verifies(root, state.accountCount()), key.toString());
            assertFalse(proof.verifies(root, state.accountCount() + 1), "count must match the header's");
            byte[] otherRoot = root.clone();
            otherRoot[0] ^= 1;
            assertFalse(proof.verifies(otherRoot, state.accountCount()));
            AccountProof lie = new AccountProof(key, new Account(proof.account().balance() + 1, proof.account().nonce()),
                    proof.inclusion());
            assertFalse(lie.verifies(root, state.accountCount()), "a different balance does not prove");
        }
        assertThrows(IllegalArgumentException.class, () -> state.prove(key(99).publicKey()));
    }

    @Test
    void genesisRefusesASupplyBeyond63Bits() {
        assertThrows(ArithmeticException.class, () -> LedgerState.genesis(CHAIN,
                Map.of(ALICE.publicKey(), Long.MAX_VALUE, BOB.publicKey(), 1L)));
        assertThrows(IllegalArgumentException.class, () -> LedgerState.genesis(CHAIN, Map.of(ALICE.publicKey(), 0L)));
    }
}
