package org.commonweal.chain.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.commonweal.consensus.CommitCertificate;
import org.commonweal.consensus.bft.engine.BftEngine;
import org.commonweal.consensus.bft.engine.InProcessTransport;
import org.commonweal.consensus.bft.engine.Transport;
import org.commonweal.consensus.bft.protocol.ValidatorSet;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.SignatureBatch;
import org.commonweal.ledger.Mempool;
import org.commonweal.ledger.PayloadTypes;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.ledger.Transfer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Four validators in one JVM, each with its own chain (block log, snapshots, mempool) and a BFT engine,
 * connected in process: they commit the same blocks; one is stopped and restarted from its data (its
 * safety state and its chain) and catches up; nothing committed differs anywhere.
 */
class BftClusterTest {

    static final int CHAIN = 11;
    private final SignatureBatch signatures = new SignatureBatch(2);
    static final List<PrivateKey> VALIDATORS = List.of(key(1), key(2), key(3), key(4));
    private static final List<PrivateKey> USERS = List.of(key(10), key(11), key(12));

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        signatures.close();
    }

    private static PrivateKey key(int i) {
        byte[] seed = new byte[32];
        seed[0] = (byte) i;
        seed[5] = 77;
        return Ed25519.fromSeed(seed);
    }

    private final InProcessTransport inProcess = new InProcessTransport();
    final ValidatorSet validators = new ValidatorSet(VALIDATORS.stream().map(PrivateKey::publicKey).toList());
    private final LocalChain[] chains = new LocalChain[4];
    private final BftEngine[] engines = new BftEngine[4];

    /** Validator {@code i}'s transport (in process here; over TCP in {@link BftTcpClusterTest}). */
    Transport transport(int i) throws java.io.IOException {
        return inProcess;
    }

    /** Closes validator {@code i}'s transport, if it has one of its own. */
    void closeTransport(int i) {
    }

    /** Checks on the transports once the flow is done. */
    void checkTransports() {
    }

    private void startValidator(int i) throws java.io.IOException {
        Map<PublicKey, Long> balances = new LinkedHashMap<>();
        USERS.forEach(u -> balances.put(u.publicKey(), 1_000_000L));
        ChainSettings settings = new ChainSettings(CHAIN, balances, 0, 1_000, 5, 2, Mempool.Limits.defaults());
        chains[i] = LocalChain.open(dir.resolve("validator-" + i), settings, PayloadTypes.standard(), signatures,
                System::currentTimeMillis);
        engines[i] = new BftEngine(new BftEngine.Settings(validators, i, 200, 20, 1_000, 10, 64), VALIDATORS.get(i)::sign,
                transport(i), dir.resolve("validator-" + i).resolve("bft-safety"), System::currentTimeMillis);
        engines[i].keepRounds(keptRounds);
        engines[i].start(chains[i].session(Long.MAX_VALUE));
    }

    /** Consensus blocks each validator keeps behind its last commit for peers catching up. */
    private long keptRounds = org.commonweal.consensus.bft.protocol.Jolteon.KEPT_ROUNDS;

    private void stopValidator(int i) {
        engines[i].stop();
        closeTransport(i);
        chains[i].close();
    }

    /** Transfers from every user, nonces from {@code first}; submitted to every running validator (gossip's job, later). */
    private List<Transaction> submit(int perUser, long first, int... to) {
        List<Transaction> txs = new ArrayList<>();
        for (int n = 0; n < perUser; n++) {
            for (int u = 0; u < USERS.size(); u++) {
                txs.add(TransactionCodec.sign(USERS.get(u), CHAIN, first + n, 1, Transfer.TYPE,
                        new Transfer(USERS.get((u + 1) % USERS.size()).publicKey(), 7).encode()));
            }
        }
        for (int i : to) {
            chains[i].submit(txs);
        }
        return txs;
    }

    private void awaitCommitted(List<Transaction> txs, int... on) throws InterruptedException {
        for (int i : on) {
            for (Transaction tx : txs) {
                assertTrue(chains[i].awaitCommitted(tx.id(), 30_000).orElseThrow().committed(),
                        "validator " + i + " committed " + tx);
            }
        }
    }

    @Test
    void fourValidatorsCommitTheSameChainAndARestartedOneCatchesUp() throws Exception {
        try {
            for (int i = 0; i < 4; i++) {
                startValidator(i);
            }
            List<Transaction> first = submit(20, 0, 0, 1, 2, 3);
            awaitCommitted(first, 0, 1, 2, 3);

            stopValidator(3); // three of four are a quorum: the chain goes on without it
            List<Transaction> second = submit(10, 20, 0, 1, 2);
            awaitCommitted(second, 0, 1, 2);

            startValidator(3); // from its own data: safety state, block log, snapshots
            List<Transaction> third = submit(5, 30, 0, 1, 2, 3);
            awaitCommitted(third, 0, 1, 2, 3);
            awaitCommitted(second, 3);

            assertSameChains();
            checkTransports();
        } finally {
            stopAll();
        }
    }

    /**
     * Validators keep 8 rounds of consensus blocks here: the stopped one falls further behind than that while the
     * others go on, so on restart it cannot fetch the blocks it missed and catches up by state sync instead (ledger
     * blocks its peers committed, each applied once f + 1 = 2 of them vouch for it), then takes part again.
     */
    @Test
    void aValidatorFurtherBehindThanItsPeersKeepCatchesUpByStateSync() throws Exception {
        keptRounds = 8;
        try {
            for (int i = 0; i < 4; i++) {
                startValidator(i);
            }
            awaitCommitted(submit(5, 0, 0, 1, 2, 3), 0, 1, 2, 3);
            stopValidator(3);
            List<Transaction> missed = new ArrayList<>();
            for (int wave = 0; wave < 10; wave++) {
                List<Transaction> txs = submit(4, 5 + 4L * wave, 0, 1, 2);
                awaitCommitted(txs, 0, 1, 2);
                missed.addAll(txs);
                Thread.sleep(50); // each wave takes rounds: together they push the missed blocks out of what is kept
            }
            startValidator(3);
            List<Transaction> after = submit(3, 45, 0, 1, 2, 3);
            awaitCommitted(after, 0, 1, 2, 3);
            awaitCommitted(missed, 3); // never submitted to it: it knows them from the blocks it caught up with
            assertSameChains();
            long vouched = java.util.stream.LongStream.rangeClosed(1, chains[3].head().height())
                    .filter(h -> chains[3].certificate(h).orElseThrow().votes().size() >= 2).count();
            assertTrue(vouched > 0, "some blocks reached validator 3 by state sync, certified by two validators");
            checkTransports();
        } finally {
            stopAll();
        }
    }

    /** Every height every validator has holds the same block, with a valid certificate. */
    private void assertSameChains() {
        long height = Math.min(Math.min(chains[0].head().height(), chains[1].head().height()),
                Math.min(chains[2].head().height(), chains[3].head().height()));
        assertTrue(height >= 3, "blocks committed: " + height);
        for (long h = 1; h <= height; h++) {
            for (int i = 1; i < 4; i++) {
                assertEquals(chains[0].block(h).orElseThrow().header(), chains[i].block(h).orElseThrow().header(),
                        "block " + h + " on validators 0 and " + i);
            }
            CommitCertificate certificate = chains[3].certificate(h).orElseThrow();
            assertEquals("bft", certificate.engine());
            assertTrue(certificate.signaturesValid(CHAIN));
        }
    }

    private void stopAll() {
        for (int i = 0; i < 4; i++) {
            if (engines[i] != null) {
                engines[i].stop();
            }
            closeTransport(i);
            if (chains[i] != null) {
                chains[i].close();
            }
        }
    }
}
