package org.commonweal.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.SignatureBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class AccountLedgerTest {

    private static final int CHAIN = 9;
    private static final SignatureBatch SIGNATURES = new SignatureBatch(2);
    private static final PrivateKey PROPOSER = key(999);

    @AfterAll
    static void close() {
        SIGNATURES.close();
    }

    private static PrivateKey key(int i) {
        byte[] seed = new byte[32];
        seed[0] = (byte) i;
        seed[1] = (byte) (i >> 8);
        seed[2] = 42;
        return Ed25519.fromSeed(seed);
    }

    /** A payload type from outside the ledger: burns up to its amount, then (on a flag) fails midway. */
    private static final PayloadType DONATE_THEN_MAYBE_FAIL = new PayloadType() {
        @Override
        public int id() {
            return 77;
        }

        @Override
        public String name() {
            return "donate";
        }

        @Override
        public void execute(Transaction tx, StateChanges changes) throws Rejection {
            ByteBuffer in = ByteBuffer.wrap(tx.payload());
            long amount = in.getLong();
            changes.debit(tx.sender(), amount);
            changes.credit(PROPOSER.publicKey(), amount);
            if (in.get() == 1) {
                throw new Rejection(Rejection.Reason.INVALID_PAYLOAD, "asked to fail after its changes");
            }
        }
    };

    private static Transaction donate(PrivateKey from, long nonce, long amount, boolean fail) {
        return TransactionCodec.sign(from, CHAIN, nonce, 3, 77, ByteBuffer.allocate(9).putLong(amount).put((byte) (fail ? 1 : 0)).array());
    }

    @Test
    void aRegisteredPayloadTypeRunsAndItsRejectionUndoesEverythingItAndTheFeeDid() throws Rejection {
        PrivateKey alice = key(1);
        LedgerState state = LedgerState.genesis(CHAIN, Map.of(alice.publicKey(), 100L));
        Rejection unknown = assertThrows(Rejection.class, () -> state.apply(donate(alice, 0, 10, false), PROPOSER.publicKey(), false));
        assertEquals(Rejection.Reason.UNKNOWN_PAYLOAD_TYPE, unknown.reason());
        assertTrue(unknown.getMessage().contains("1 transfer"), unknown.getMessage());

        state.payloadTypes(PayloadTypes.standardPlus(List.of(DONATE_THEN_MAYBE_FAIL)));
        byte[] root = state.root();
        Rejection failed = assertThrows(Rejection.class, () -> state.apply(donate(alice, 0, 10, true), PROPOSER.publicKey(), false));
        assertEquals(Rejection.Reason.INVALID_PAYLOAD, failed.reason());
        assertArrayEquals(root, state.root(), "a rejected payload changes nothing: not its debit, not the fee, not the nonce");

        state.apply(donate(alice, 0, 10, false), PROPOSER.publicKey(), false);
        assertEquals(new Account(87, 1), state.account(alice.publicKey()));
        assertEquals(new Account(13, 0), state.account(PROPOSER.publicKey()));
    }

    @Test
    void twoTypesWithOneIdAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PayloadTypes.standardPlus(List.of(new PayloadType() {
                    public int id() {
                        return Transfer.TYPE;
                    }

                    public String name() {
                        return "impostor";
                    }

                    public void execute(Transaction tx, StateChanges changes) {
                    }
                })));
        assertTrue(e.getMessage().contains("transfer") && e.getMessage().contains("impostor"), e.getMessage());
    }

    /**
     * Random histories through the state machine: three nodes (one proposing, one validating with its own
     * signature checks, one restored from a snapshot midway) commit the same blocks and agree on every
     * header; supply is conserved.
     */
    @Test
    void nodesThatCommitTheSameBlocksAgreeBitForBitAndSnapshotsRestoreExactly() throws Rejection {
        Random random = new Random(5);
        List<PrivateKey> keys = new ArrayList<>();
        Map<PublicKey, Long> balances = new LinkedHashMap<>();
        for (int i = 0; i < 16; i++) {
            keys.add(key(i));
            balances.put(keys.get(i).publicKey(), 1_000L + random.nextInt(5_000));
        }
        Block genesis = Block.genesis(CHAIN, balances, 0, PROPOSER.publicKey());
        AccountLedger proposer = AccountLedger.genesis(genesis, balances, PayloadTypes.standard(), SIGNATURES);
        AccountLedger validator = AccountLedger.genesis(genesis, balances, PayloadTypes.standard(), SIGNATURES);
        AccountLedger restored = null;
        long supply = proposer.totalSupply();
        long[] nonces = new long[keys.size()];
        for (int height = 1; height <= 30; height++) {
            List<Transaction> candidates = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                int from = random.nextInt(keys.size());
                int to = (from + 1 + random.nextInt(keys.size() - 1)) % keys.size();
                candidates.add(TransactionCodec.sign(keys.get(from), CHAIN, nonces[from]++, random.nextInt(3),
                        Transfer.TYPE, new Transfer(keys.get(to).publicKey(), 1 + random.nextInt(800)).encode()));
            }
            Block block = proposer.propose(proposer.head(), candidates, PROPOSER.publicKey(), height * 1_000L, 25);
            proposer.execute(block, true);
            BlockHeader committed = proposer.commit(block.header().hash());
            for (int i = 0; i < keys.size(); i++) { // what was left out is retried with the same nonces
                nonces[i] = proposer.account(keys.get(i).publicKey()).nonce();
            }
            validator.execute(Block.decode(block.encode()), false);
            assertEquals(committed, validator.commit(block.header().hash()), "validator's header at " + height);
            if (restored != null) {
                restored.execute(block, false);
                assertEquals(committed, restored.commit(block.header().hash()), "restored node's header at " + height);
            }
            if (height == 12) {
                byte[] snapshot = validator.snapshot();
                restored = AccountLedger.restore(snapshot, PayloadTypes.standard(), SIGNATURES);
                assertArrayEquals(snapshot, restored.snapshot());
            }
            assertEquals(supply, proposer.totalSupply(), "supply at " + height);
        }
        assertArrayEquals(proposer.snapshot(), validator.snapshot());
        assertArrayEquals(proposer.snapshot(), restored.snapshot());
        assertTrue(proposer.head().transactionCount() > 0);
    }

    /** A pipelined engine's view: blocks on uncommitted parents, forks, and what a commit keeps. */
    @Test
    void pendingBlocksFormATreeAndACommitKeepsOnlyWhatDescendsFromTheNewHead() throws Rejection {
        PrivateKey alice = key(1);
        PrivateKey bob = key(2);
        Map<PublicKey, Long> balances = Map.of(alice.publicKey(), 1_000L, bob.publicKey(), 1_000L);
        Block genesis = Block.genesis(CHAIN, balances, 0, PROPOSER.publicKey());
        AccountLedger leader = AccountLedger.genesis(genesis, balances, PayloadTypes.standard(), SIGNATURES);
        AccountLedger replica = AccountLedger.genesis(genesis, balances, PayloadTypes.standard(), SIGNATURES);
        java.util.function.BiFunction<PrivateKey, Long, Transaction> pay = (from, nonce) -> TransactionCodec.sign(from, CHAIN,
                nonce, 1, Transfer.TYPE, new Transfer(PROPOSER.publicKey(), 10).encode());

        Block a = leader.propose(leader.head(), List.of(pay.apply(alice, 0L)), PROPOSER.publicKey(), 1, 10);
        Block fork = leader.propose(leader.head(), List.of(pay.apply(bob, 0L)), PROPOSER.publicKey(), 1, 10);
        replica.execute(a, false);
        replica.execute(fork, false);
        // On the uncommitted a: alice's nonce is already 1 there.
        AccountView afterA = replica.stateAfter(a.header()).orElseThrow();
        assertEquals(1, afterA.account(alice.publicKey()).nonce());
        assertEquals(0, replica.account(alice.publicKey()).nonce(), "the committed state has not moved");
        Block b = replica.propose(a.header(), List.of(pay.apply(alice, 1L), pay.apply(alice, 0L)), PROPOSER.publicKey(), 2, 10);
        assertEquals(1, b.transactions().size(), "the replayed nonce is left out on a's state");
        replica.execute(b, true);
        Block orphan = replica.propose(fork.header(), List.of(pay.apply(bob, 1L)), PROPOSER.publicKey(), 2, 10);
        replica.execute(orphan, true);

        assertThrows(IllegalStateException.class, () -> replica.commit(b.header().hash()), "not a child of the head");
        assertEquals(a.header(), replica.commit(a.header().hash()));
        assertTrue(replica.stateAfter(fork.header()).isEmpty(), "the fork is dropped");
        assertTrue(replica.stateAfter(orphan.header()).isEmpty(), "and what was built on it");
        assertTrue(replica.stateAfter(b.header()).isPresent(), "b still descends from the head");
        assertEquals(b.header(), replica.commit(b.header().hash()));
        assertEquals(2, replica.account(alice.publicKey()).nonce());

        Rejection unknownParent = assertThrows(Rejection.class, () -> leader.execute(b, true));
        assertEquals(Rejection.Reason.INVALID_BLOCK, unknownParent.reason());
    }

    @Test
    void aBlockWithAForgedSignatureIsInvalidAndLeavesTheHead() throws Rejection {
        PrivateKey alice = key(1);
        PrivateKey bob = key(2);
        Map<PublicKey, Long> balances = Map.of(alice.publicKey(), 100L);
        Block genesis = Block.genesis(CHAIN, balances, 0, PROPOSER.publicKey());
        AccountLedger ledger = AccountLedger.genesis(genesis, balances, PayloadTypes.standard(), SIGNATURES);
        Transaction good = TransactionCodec.sign(alice, CHAIN, 0, 1, Transfer.TYPE, new Transfer(bob.publicKey(), 5).encode());
        byte[] signature = good.signature();
        signature[0] ^= 1;
        Transaction forged = new Transaction(CHAIN, alice.publicKey(), 0, 1, Transfer.TYPE, good.payload(), signature);
        // A proposer that (wrongly) trusted the signature: the block's roots are right, the signature is not.
        AccountLedger careless = AccountLedger.genesis(genesis, balances, PayloadTypes.standard(), SIGNATURES);
        Block block = careless.propose(careless.head(), List.of(forged), PROPOSER.publicKey(), 1, 10);
        Rejection rejection = assertThrows(Rejection.class, () -> ledger.execute(block, false));
        assertEquals(Rejection.Reason.INVALID_BLOCK, rejection.reason());
        assertTrue(rejection.getMessage().contains("not signed"), rejection.getMessage());
        assertThrows(IllegalStateException.class, () -> ledger.commit(block.header().hash()));
        assertEquals(genesis.header(), ledger.head());
    }

    @Test
    void aTamperedSnapshotIsRefused() throws Rejection {
        PrivateKey alice = key(1);
        Map<PublicKey, Long> balances = Map.of(alice.publicKey(), 100L, key(2).publicKey(), 7L);
        AccountLedger ledger = AccountLedger.genesis(Block.genesis(CHAIN, balances, 0, PROPOSER.publicKey()), balances,
                PayloadTypes.standard(), SIGNATURES);
        byte[] snapshot = ledger.snapshot();
        snapshot[snapshot.length - 9] ^= 1; // a balance bit of the last account
        assertEquals(Rejection.Reason.MALFORMED,
                assertThrows(Rejection.class, () -> AccountLedger.restore(snapshot, PayloadTypes.standard(), SIGNATURES)).reason());
        byte[] truncated = java.util.Arrays.copyOf(ledger.snapshot(), ledger.snapshot().length - 1);
        assertEquals(Rejection.Reason.MALFORMED,
                assertThrows(Rejection.class, () -> AccountLedger.restore(truncated, PayloadTypes.standard(), SIGNATURES)).reason());
    }
}
