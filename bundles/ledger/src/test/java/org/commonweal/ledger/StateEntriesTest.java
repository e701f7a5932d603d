package org.commonweal.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.SignatureBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Namespaced entries through StateChanges, in the root, in proofs, in snapshots; and block rules. */
class StateEntriesTest {

    private static final int CHAIN = 4;
    private static final SignatureBatch SIGNATURES = new SignatureBatch(2);
    private static final PrivateKey PROPOSER = key(99);
    private static final PrivateKey ALICE = key(1);

    @AfterAll
    static void close() {
        SIGNATURES.close();
    }

    private static PrivateKey key(int i) {
        byte[] seed = new byte[32];
        seed[0] = (byte) i;
        seed[2] = 7;
        return Ed25519.fromSeed(seed);
    }

    /** Payload "note": key = payload[0..n-1], writes "note"/key = last byte; a last byte 0 deletes. */
    private static final PayloadType NOTE = new PayloadType() {
        public int id() {
            return 50;
        }

        public String name() {
            return "note";
        }

        public void execute(Transaction tx, StateChanges changes) throws Rejection {
            byte[] p = tx.payload();
            byte[] key = java.util.Arrays.copyOf(p, p.length - 1);
            if (p[p.length - 1] == 0) {
                changes.delete("note", key);
            } else {
                changes.put("note", key, new byte[] {p[p.length - 1]});
                assertArrayEquals(new byte[] {p[p.length - 1]}, changes.entry("note", key).orElseThrow());
            }
            changes.put("note.height", key, ByteBuffer.allocate(8).putLong(changes.block().height()).array());
        }
    };

    /** Counts blocks in an entry and mints 5 to the proposer per block; invariant: the count is below 3 ... unless allowed. */
    private static final class Counter implements BlockRule {
        long limit = Long.MAX_VALUE;

        public String name() {
            return "counter";
        }

        public void endBlock(BlockContext block, StateChanges changes) throws Rejection {
            long n = changes.entry("counter", new byte[0]).map(v -> ByteBuffer.wrap(v).getLong()).orElse(0L);
            changes.put("counter", new byte[0], ByteBuffer.allocate(8).putLong(n + 1).array());
            changes.credit(block.proposer(), 5);
        }

        @Override
        public void checkInvariants(BlockContext block, StateView state) throws Rejection {
            long n = state.entry("counter", new byte[0]).map(v -> ByteBuffer.wrap(v).getLong()).orElse(0L);
            if (n > limit) {
                throw new Rejection(Rejection.Reason.INVARIANT_VIOLATED, "counter " + n + " over " + limit);
            }
        }
    }

    private static Transaction note(long nonce, String key, int value) {
        byte[] k = key.getBytes(StandardCharsets.US_ASCII);
        return TransactionCodec.sign(ALICE, CHAIN, nonce, 0, 50, ByteBuffer.allocate(k.length + 1).put(k).put((byte) value).array());
    }

    private static AccountLedger ledger(PayloadTypes types) {
        Map<org.commonweal.crypto.PublicKey, Long> balances = Map.of(ALICE.publicKey(), 1000L);
        return AccountLedger.genesis(Block.genesis(CHAIN, balances, 1000, PROPOSER.publicKey()), balances, types, SIGNATURES);
    }

    @Test
    void entriesAreWrittenOrderedProvenAndChangeTheRootOnlyWhenPresent() throws Rejection {
        LedgerState state = LedgerState.genesis(CHAIN, Map.of(ALICE.publicKey(), 1000L));
        byte[] accountsOnly = state.root();
        state.payloadTypes(PayloadTypes.standardPlus(List.of(NOTE)));
        state.apply(note(0, "b", 2), PROPOSER.publicKey(), false);
        state.apply(note(1, "a", 1), PROPOSER.publicKey(), false);
        assertEquals(4, state.entryCount());
        assertFalse(java.util.Arrays.equals(accountsOnly, state.root()));
        SortedMap<byte[], byte[]> notes = state.entries("note", new byte[0], 10);
        List<String> keys = new ArrayList<>();
        notes.keySet().forEach(k -> keys.add(new String(k, StandardCharsets.US_ASCII)));
        assertEquals(List.of("a", "b"), keys);
        EntryProof proof = state.proveEntry("note", "a".getBytes(StandardCharsets.US_ASCII)).orElseThrow();
        assertTrue(proof.verifies(state.root()));
        assertTrue(state.prove(ALICE.publicKey()).verifies(state.root(), state.accountCount()));
        EntryProof forged = new EntryProof("note", proof.key(), new byte[] {9}, proof.inclusion(), proof.roots());
        assertFalse(forged.verifies(state.root()));

        state.apply(note(2, "a", 0), PROPOSER.publicKey(), false);
        state.apply(note(3, "b", 0), PROPOSER.publicKey(), false);
        assertTrue(state.entries("note", new byte[0], 10).isEmpty());
        assertTrue(state.proveEntry("note", "a".getBytes(StandardCharsets.US_ASCII)).isEmpty());
    }

    @Test
    void aRejectedTransactionWritesNoEntryAndLimitsAreOversized() {
        LedgerState state = LedgerState.genesis(CHAIN, Map.of(ALICE.publicKey(), 1000L));
        PayloadType tooMany = new PayloadType() {
            public int id() {
                return 51;
            }

            public String name() {
                return "spam";
            }

            public void execute(Transaction tx, StateChanges changes) throws Rejection {
                for (int i = 0; i <= StateEntries.MAX_WRITES_PER_TRANSACTION; i++) {
                    changes.put("spam", ByteBuffer.allocate(4).putInt(i).array(), new byte[] {1});
                }
            }
        };
        state.payloadTypes(PayloadTypes.standardPlus(List.of(tooMany, NOTE)));
        Rejection many = assertThrows(Rejection.class,
                () -> state.apply(TransactionCodec.sign(ALICE, CHAIN, 0, 0, 51, new byte[] {1}), PROPOSER.publicKey(), false));
        assertEquals(Rejection.Reason.OVERSIZED, many.reason());
        assertEquals(0, state.entryCount());
        Rejection longKey = assertThrows(Rejection.class,
                () -> state.apply(note(0, "k".repeat(StateEntries.MAX_KEY_BYTES + 1), 1), PROPOSER.publicKey(), false));
        assertEquals(Rejection.Reason.OVERSIZED, longKey.reason());
        assertEquals(0, state.entryCount());
    }

    @Test
    void snapshotsCarryEntriesAndRestoreToTheSameRoot() throws Rejection {
        LedgerState state = LedgerState.genesis(CHAIN, Map.of(ALICE.publicKey(), 1000L));
        byte[] v1 = state.snapshot();
        assertEquals(LedgerState.SNAPSHOT_VERSION, v1[0]);
        state.payloadTypes(PayloadTypes.standardPlus(List.of(NOTE)));
        for (int i = 0; i < 20; i++) {
            state.apply(note(i, "key" + i, i + 1), PROPOSER.publicKey(), false);
        }
        byte[] v2 = state.snapshot();
        assertEquals(LedgerState.SNAPSHOT_VERSION_ENTRIES, v2[0]);
        LedgerState restored = LedgerState.restore(v2, state.payloadTypes());
        assertArrayEquals(state.root(), restored.root());
        assertArrayEquals(v2, restored.snapshot());
        byte[] truncated = java.util.Arrays.copyOf(v2, v2.length - 1);
        assertEquals(Rejection.Reason.MALFORMED, assertThrows(Rejection.class,
                () -> LedgerState.restore(truncated, state.payloadTypes())).reason());
    }

    @Test
    void blockRulesRunEveryBlockOnEveryNodeAndAnInvariantRejectsTheBlock() throws Rejection {
        Counter counter = new Counter();
        PayloadTypes types = PayloadTypes.standardPlus(List.of(NOTE)).withBlockRules(List.of(counter));
        AccountLedger proposer = ledger(types);
        AccountLedger validator = ledger(types);
        for (int h = 1; h <= 3; h++) {
            Block block = proposer.propose(proposer.head(), List.of(note(h - 1, "h", h)), PROPOSER.publicKey(), 1000 + h, 100);
            proposer.execute(block, true);
            proposer.commit(block.header().hash());
            validator.execute(block, false);
            validator.commit(block.header().hash());
            assertArrayEquals(proposer.head().stateRoot(), validator.head().stateRoot());
        }
        assertEquals(15, validator.account(PROPOSER.publicKey()).balance());
        assertEquals(3, ByteBuffer.wrap(validator.committedState().entry("counter", new byte[0]).orElseThrow()).getLong());
        assertArrayEquals(new byte[] {3}, validator.proveEntry("note", "h".getBytes(StandardCharsets.US_ASCII))
                .orElseThrow().proof().value());
        assertTrue(validator.proveEntry("note", "h".getBytes(StandardCharsets.US_ASCII)).orElseThrow().verifies());
        assertEquals(3, ByteBuffer.wrap(validator.committedState().entry("note.height", "h".getBytes(StandardCharsets.US_ASCII))
                .orElseThrow()).getLong(), "a payload type sees the height of the block it runs in");

        // snapshot and restore keep entries, and the restored ledger goes on identically
        AccountLedger restored = AccountLedger.restore(validator.snapshot(), types, SIGNATURES);
        Block next = proposer.propose(proposer.head(), List.of(), PROPOSER.publicKey(), 2000, 100);
        restored.execute(next, true);
        assertArrayEquals(next.header().stateRoot(), restored.commit(next.header().hash()).stateRoot());

        // a validator whose rule's invariant fails refuses the block
        Counter strict = new Counter();
        strict.limit = 3;
        AccountLedger other = AccountLedger.restore(validator.snapshot(), PayloadTypes.standardPlus(List.of(NOTE))
                .withBlockRules(List.of(strict)), SIGNATURES);
        Rejection refused = assertThrows(Rejection.class, () -> other.execute(next, true));
        assertEquals(Rejection.Reason.INVALID_BLOCK, refused.reason());
        assertTrue(refused.getMessage().contains("block rule counter") && refused.getMessage().contains("INVARIANT_VIOLATED"),
                refused.getMessage());
        // and its own proposer cannot make one
        assertThrows(IllegalStateException.class, () -> other.propose(other.head(), List.of(), PROPOSER.publicKey(), 3000, 10));
    }

    @Test
    void blockRulesHaveUniqueNames() {
        assertThrows(IllegalArgumentException.class,
                () -> PayloadTypes.standard().withBlockRules(List.of(new Counter(), new Counter())));
    }
}
