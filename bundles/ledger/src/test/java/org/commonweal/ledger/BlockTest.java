package org.commonweal.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.junit.jupiter.api.Test;

class BlockTest {

    private static final int CHAIN = 3;
    private static final PrivateKey ALICE = Ed25519.fromSeed(seed(1));
    private static final PrivateKey BOB = Ed25519.fromSeed(seed(2));
    private static final PrivateKey PROPOSER = Ed25519.fromSeed(seed(3));
    private static final Map<PublicKey, Long> BALANCES = Map.of(ALICE.publicKey(), 1_000L, BOB.publicKey(), 500L);

    private static byte[] seed(int i) {
        byte[] seed = new byte[32];
        seed[0] = (byte) i;
        return seed;
    }

    private static Transaction transfer(PrivateKey from, PublicKey to, long amount, long nonce) {
        return TransactionCodec.sign(from, CHAIN, nonce, 1, Transfer.TYPE, new Transfer(to, amount).encode());
    }

    private record Chain(Block genesis, BlockExecution.Result first) {
    }

    private static Chain chain() {
        Block genesis = Block.genesis(CHAIN, BALANCES, 1_000, PROPOSER.publicKey());
        List<Transaction> candidates = List.of(transfer(ALICE, BOB.publicKey(), 100, 0), transfer(BOB, ALICE.publicKey(), 9_999, 0),
                transfer(ALICE, BOB.publicKey(), 50, 1), transfer(BOB, ALICE.publicKey(), 20, 0));
        BlockExecution.Result first = BlockExecution.propose(LedgerState.genesis(CHAIN, BALANCES), genesis.header(), candidates,
                PROPOSER.publicKey(), 2_000, 1_000, false);
        return new Chain(genesis, first);
    }

    @Test
    void aProposedBlockHoldsWhatAppliesAndEveryNodeValidatesItToTheSameState() throws Rejection {
        Chain chain = chain();
        Block block = chain.first().block();
        assertEquals(3, block.transactions().size(), "the overdraft is left out");
        assertEquals(1, block.header().height());
        assertArrayEquals(chain.genesis().header().hash(), block.header().previousHash());

        Block received = Block.decode(block.encode());
        assertEquals(block.header(), received.header());
        assertEquals(block.transactions(), received.transactions());
        LedgerState elsewhere = BlockExecution.validate(LedgerState.genesis(CHAIN, BALANCES), chain.genesis().header(),
                received, false);
        assertArrayEquals(chain.first().state().root(), elsewhere.root());
        assertArrayEquals(block.header().stateRoot(), elsewhere.root());
        assertEquals(new Account(1_000 - 101 - 51 + 20, 2), elsewhere.account(ALICE.publicKey()));
        assertEquals(3, elsewhere.account(PROPOSER.publicKey()).balance(), "three fees of 1");
        assertTrue(elsewhere.prove(BOB.publicKey()).verifies(block.header().stateRoot(), block.header().accountCount()));
    }

    @Test
    void aBlockThatDoesNotCheckOutIsRefusedNamingWhy() {
        Chain chain = chain();
        BlockHeader parent = chain.genesis().header();
        Block good = chain.first().block();
        BlockHeader h = good.header();
        List<Transaction> txs = good.transactions();

        List<Transaction> swapped = new ArrayList<>(txs);
        java.util.Collections.swap(swapped, 0, 2);
        byte[] otherRoot = h.stateRoot();
        otherRoot[0] ^= 1;
        List<Transaction> withBad = new ArrayList<>(txs);
        withBad.add(transfer(BOB, ALICE.publicKey(), 10_000, 1));
        Map<String, Block> bad = Map.of(
                "does not follow", new Block(new BlockHeader(CHAIN, 2, h.previousHash(), h.timeMillis(), h.proposer(),
                        h.transactionRoot(), h.transactionCount(), h.stateRoot(), h.accountCount()), txs),
                "transaction root or count", new Block(h, swapped),
                "state root or account count", new Block(new BlockHeader(CHAIN, 1, h.previousHash(), h.timeMillis(),
                        h.proposer(), h.transactionRoot(), h.transactionCount(), otherRoot, h.accountCount()), txs),
                "transaction 3 does not apply: INSUFFICIENT_FUNDS", new Block(new BlockHeader(CHAIN, 1, h.previousHash(),
                        h.timeMillis(), h.proposer(), Block.transactionRoot(withBad), withBad.size(), h.stateRoot(),
                        h.accountCount()), withBad),
                "is before its parent's", new Block(new BlockHeader(CHAIN, 1, h.previousHash(), 999, h.proposer(),
                        h.transactionRoot(), h.transactionCount(), h.stateRoot(), h.accountCount()), txs));
        for (Map.Entry<String, Block> c : bad.entrySet()) {
            Rejection rejection = assertThrows(Rejection.class,
                    () -> BlockExecution.validate(LedgerState.genesis(CHAIN, BALANCES), parent, c.getValue(), false), c.getKey());
            assertEquals(Rejection.Reason.INVALID_BLOCK, rejection.reason(), rejection.getMessage());
            assertTrue(rejection.getMessage().contains(c.getKey()), rejection.getMessage());
        }
    }

    @Test
    void decodingAcceptsExactlyOneEncoding() {
        byte[] bytes = chain().first().block().encode();
        assertEquals(Rejection.Reason.MALFORMED, assertThrows(Rejection.class,
                () -> Block.decode(Arrays.copyOf(bytes, bytes.length + 1))).reason());
        assertEquals(Rejection.Reason.MALFORMED, assertThrows(Rejection.class,
                () -> Block.decode(Arrays.copyOf(bytes, bytes.length - 1))).reason());
        assertEquals(Rejection.Reason.MALFORMED, assertThrows(Rejection.class,
                () -> Block.decode(Arrays.copyOf(bytes, 50))).reason());
        byte[] tooMany = bytes.clone();
        java.nio.ByteBuffer.wrap(tooMany).putInt(1 + 4 + 8 + 32 + 8 + 32 + 32, Block.MAX_TRANSACTIONS + 1);
        assertEquals(Rejection.Reason.OVERSIZED, assertThrows(Rejection.class, () -> Block.decode(tooMany)).reason());
        byte[] version = bytes.clone();
        version[0] = 2;
        assertTrue(assertThrows(Rejection.class, () -> Block.decode(version)).getMessage().contains("unknown block version 2"));
    }
}
