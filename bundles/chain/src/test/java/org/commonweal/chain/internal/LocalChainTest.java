package org.commonweal.chain.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.commonweal.chain.TransactionStatus;
import org.commonweal.consensus.CommitCertificate;
import org.commonweal.consensus.solo.SoloEngine;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.SignatureBatch;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.BlockHeader;
import org.commonweal.ledger.Mempool;
import org.commonweal.ledger.PayloadTypes;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.ledger.Transfer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalChainTest {

    private static final int CHAIN = 5;
    private static final SignatureBatch SIGNATURES = new SignatureBatch(2);
    private static final PrivateKey SEQUENCER = key(1000);
    private static final List<PrivateKey> USERS = Stream.iterate(0, i -> i + 1).limit(8).map(LocalChainTest::key).toList();

    @TempDir
    Path dir;

    @AfterAll
    static void close() {
        SIGNATURES.close();
    }

    private static PrivateKey key(int i) {
        byte[] seed = new byte[32];
        seed[0] = (byte) i;
        seed[1] = (byte) (i >> 8);
        seed[3] = 9;
        return Ed25519.fromSeed(seed);
    }

    private static ChainSettings settings(long snapshotInterval) {
        Map<PublicKey, Long> balances = new LinkedHashMap<>();
        USERS.forEach(u -> balances.put(u.publicKey(), 1_000_000L));
        return new ChainSettings(CHAIN, balances, 0, 50, snapshotInterval, 2, Mempool.Limits.defaults());
    }

    private LocalChain open(long snapshotInterval) {
        return LocalChain.open(dir, settings(snapshotInterval), PayloadTypes.standard(), SIGNATURES, System::currentTimeMillis);
    }

    private static SoloEngine solo() {
        return new SoloEngine(SEQUENCER.publicKey(), SEQUENCER::sign, System::currentTimeMillis, Integer.MAX_VALUE);
    }

    /** Transfers round-robin between the users, {@code perUser} each, nonces from {@code firstNonce}. */
    private static List<Transaction> transfers(int perUser, long firstNonce) {
        List<Transaction> txs = new ArrayList<>();
        for (int n = 0; n < perUser; n++) {
            for (int u = 0; u < USERS.size(); u++) {
                PublicKey to = USERS.get((u + 1 + n % (USERS.size() - 1)) % USERS.size()).publicKey();
                txs.add(TransactionCodec.sign(USERS.get(u), CHAIN, firstNonce + n, 1, Transfer.TYPE, new Transfer(to, 10 + n).encode()));
            }
        }
        return txs;
    }

    private static void awaitAll(LocalChain chain, List<Transaction> txs) throws InterruptedException {
        for (Transaction tx : txs) {
            TransactionStatus status = chain.awaitCommitted(tx.id(), 20_000).orElseThrow();
            assertTrue(status.committed(), "committed within 20 s: " + tx);
        }
    }

    @Test
    void theSoloEngineCommitsSubmittedTransactionsDurablyWithSignedCertificates() throws Exception {
        List<Transaction> txs = transfers(20, 0);
        BlockHeader head;
        try (LocalChain chain = open(1_000)) {
            List<Block> seen = new ArrayList<>();
            chain.subscribe(seen::add);
            SoloEngine engine = solo();
            engine.start(chain.session(Long.MAX_VALUE));
            try {
                List<Mempool.Admission> admissions = chain.submit(txs);
                assertTrue(admissions.stream().allMatch(a -> a.outcome() == Mempool.Outcome.ACCEPTED), admissions::toString);
                awaitAll(chain, txs);
            } finally {
                engine.stop();
            }
            head = chain.head();
            assertTrue(head.height() >= 4, "160 transactions in blocks of at most 50: " + head.height());
            long total = 0;
            for (long h = 1; h <= head.height(); h++) {
                Block block = chain.block(h).orElseThrow();
                total += block.transactions().size();
                CommitCertificate certificate = chain.certificate(h).orElseThrow();
                assertArrayEquals(block.header().hash(), certificate.blockHash());
                assertTrue(certificate.signaturesValid(CHAIN));
                assertEquals(SEQUENCER.publicKey(), certificate.votes().getFirst().signer());
                assertEquals(block.header(), seen.get((int) h - 1).header(), "subscribers saw every block in order");
            }
            assertEquals(txs.size(), total);
            assertEquals(0, chain.pendingTransactions());
            long supply = 0;
            for (PrivateKey user : USERS) {
                supply += chain.account(user.publicKey()).balance();
                assertTrue(chain.prove(user.publicKey()).orElseThrow().verifies());
            }
            supply += chain.account(SEQUENCER.publicKey()).balance();
            assertEquals(8_000_000L, supply, "supply conserved, fees to the sequencer");
            assertEquals(txs.size(), chain.account(SEQUENCER.publicKey()).balance());
        }
        try (LocalChain reopened = open(1_000)) {
            assertEquals(head, reopened.head(), "the same head, state root included, after reopening");
            TransactionStatus status = reopened.transaction(txs.get(77).id()).orElseThrow();
            assertTrue(status.committed());
            assertEquals(txs.get(77), status.transaction());
        }
    }

    @Test
    void recoveryUsesTheNewestWholeSnapshotAndSkipsADamagedOne() throws Exception {
        BlockHeader head;
        try (LocalChain chain = open(2)) {
            SoloEngine engine = solo();
            engine.start(chain.session(Long.MAX_VALUE));
            try {
                for (int round = 0; round < 6; round++) { // one block per round: each waits for the previous
                    List<Transaction> txs = transfers(1, round);
                    chain.submit(txs);
                    awaitAll(chain, txs);
                }
            } finally {
                engine.stop();
            }
            head = chain.head();
        }
        List<Path> snapshots;
        try (Stream<Path> files = Files.list(dir.resolve("snapshots"))) {
            snapshots = files.sorted().toList();
        }
        assertEquals(2, snapshots.size(), "the newest two are kept: " + snapshots);
        try (LocalChain reopened = open(2)) {
            assertEquals(head, reopened.head());
        }
        byte[] newest = Files.readAllBytes(snapshots.getLast());
        newest[newest.length - 1] ^= 1;
        Files.write(snapshots.getLast(), newest);
        Files.writeString(dir.resolve("snapshots").resolve("00000000000000000099.snapshot"), "half a snapshot");
        try (LocalChain reopened = open(2)) {
            assertEquals(head, reopened.head(), "damaged snapshots skipped, older snapshot + log replayed");
        }
        Files.delete(snapshots.getFirst());
        try (LocalChain reopened = open(2)) {
            assertEquals(head, reopened.head(), "no usable snapshot: replayed from genesis");
        }
    }

    @Test
    void aDataDirectoryOfAnotherChainIsRefusedWithTheFix() {
        open(1_000).close();
        ChainSettings other = new ChainSettings(CHAIN + 1, settings(1).genesisBalances(), 0, 50, 1_000, 2, Mempool.Limits.defaults());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> LocalChain.open(dir, other, PayloadTypes.standard(), SIGNATURES, System::currentTimeMillis));
        assertTrue(e.getMessage().contains("another genesis") && e.getMessage().contains("another data directory"), e.getMessage());
    }

    @Test
    void anEngineCannotCommitBeyondItsSlotNorWithABadCertificateNorAfterItWasStopped() throws Exception {
        try (LocalChain chain = open(1_000)) {
            LocalChain.EngineSession first = chain.session(1);
            List<Transaction> txs = transfers(1, 0);
            chain.submit(txs);
            Block one = first.propose(chain.head(), first.candidates(chain.head(), 100), SEQUENCER.publicKey(), 1);
            CommitCertificate forged = new CommitCertificate("solo", 1, one.header().hash(),
                    List.of(new CommitCertificate.Vote(SEQUENCER.publicKey(), new byte[64])));
            assertEquals(Rejection.Reason.INVALID_BLOCK, assertThrows(Rejection.class, () -> first.commit(one, forged)).reason());
            assertEquals(0, chain.head().height(), "a refused commit changes nothing");
            first.commit(one, CommitCertificate.signedBy("solo", CHAIN, 1, one.header().hash(), SEQUENCER.publicKey(), SEQUENCER::sign));
            assertEquals(1, chain.head().height());

            chain.submit(transfers(1, 1));
            Block two = first.propose(chain.head(), first.candidates(chain.head(), 100), SEQUENCER.publicKey(), 2);
            CommitCertificate certificate = CommitCertificate.signedBy("solo", CHAIN, 2, two.header().hash(),
                    SEQUENCER.publicKey(), SEQUENCER::sign);
            Rejection beyond = assertThrows(Rejection.class, () -> first.commit(two, certificate));
            assertTrue(beyond.getMessage().contains("beyond this engine's last height 1"), beyond.getMessage());

            LocalChain.EngineSession next = chain.session(Long.MAX_VALUE);
            first.close();
            assertThrows(IllegalStateException.class, () -> first.commit(two, certificate));
            next.commit(two, certificate);
            assertEquals(2, chain.head().height(), "the next engine continues the same chain: no fork at the handover");
            assertFalse(chain.transaction(txs.getFirst().id()).isEmpty());
        }
    }

    /** What a pipelined engine does: propose and validate on an uncommitted parent, commit in order. */
    @Test
    void blocksOnUncommittedParentsCommitInOrderAndOnlyAsChildrenOfTheHead() throws Exception {
        try (LocalChain chain = open(1_000)) {
            LocalChain.EngineSession engine = chain.session(Long.MAX_VALUE);
            chain.submit(transfers(2, 0));
            BlockHeader genesis = chain.head();
            Block first = engine.propose(genesis, engine.candidates(genesis, 8), SEQUENCER.publicKey(), 1);
            engine.validate(first);
            List<Transaction> next = engine.candidates(first.header(), 100);
            assertEquals(8, next.size(), "candidates for the child start after the parent's nonces");
            Block second = engine.propose(first.header(), next, SEQUENCER.publicKey(), 2);
            engine.validate(second);
            assertEquals(0, chain.head().height(), "validated is not committed");
            Rejection outOfOrder = assertThrows(Rejection.class, () -> engine.commit(second, certificate(second)));
            assertEquals(Rejection.Reason.INVALID_BLOCK, outOfOrder.reason());
            engine.commit(first, certificate(first));
            engine.commit(second, certificate(second));
            assertEquals(second.header(), chain.head());
            assertEquals(0, chain.pendingTransactions());
        }
    }

    private static CommitCertificate certificate(Block block) {
        return CommitCertificate.signedBy("solo", CHAIN, block.header().height(), block.header().hash(), SEQUENCER.publicKey(),
                SEQUENCER::sign);
    }

    @Test
    void theScheduleHandsOverAtTheConfiguredHeights() {
        EngineSchedule schedule = EngineSchedule.parse(new String[] { "solo@1", " bft@5000 " });
        assertEquals(new EngineSchedule.Slot("solo", 1, 4_999), schedule.slotFor(1));
        assertEquals(new EngineSchedule.Slot("solo", 1, 4_999), schedule.slotFor(4_999));
        assertEquals(new EngineSchedule.Slot("bft", 5_000, Long.MAX_VALUE), schedule.slotFor(5_000));
        for (String[] bad : new String[][] { {}, { "solo" }, { "solo@0" }, { "solo@2" }, { "solo@1", "bft@1" }, { "@1" } }) {
            assertThrows(IllegalArgumentException.class, () -> EngineSchedule.parse(bad), String.join(",", bad));
        }
    }

}
