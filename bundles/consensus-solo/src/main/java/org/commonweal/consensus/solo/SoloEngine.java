package org.commonweal.consensus.solo;

import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

import org.commonweal.consensus.CommitCertificate;
import org.commonweal.consensus.ConsensusEngine;
import org.commonweal.consensus.EngineContext;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.BlockHeader;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.commonweal.node.api.NodeIdentity;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The solo engine: this node is the only sequencer. One thread waits for transactions, proposes a
 * block of everything that applies (up to the chain's limit), signs a one-vote commit certificate with
 * the node key and commits. No block is made without transactions; under load blocks grow by
 * themselves, because what arrives while one block commits goes into the next.
 */
@Component(service = ConsensusEngine.class)
public final class SoloEngine implements ConsensusEngine {

    public static final String NAME = "solo";
    private static final Logger LOG = LoggerFactory.getLogger(SoloEngine.class);
    private static final long IDLE_WAIT_MILLIS = 250;

    private final PublicKey sequencer;
    private final UnaryOperator<byte[]> sign;
    private final LongSupplier clock;
    private final int maxBlockTransactions;
    private Thread thread;
    private volatile boolean running;

    @Activate
    public SoloEngine(@Reference(name = "identity") NodeIdentity identity) {
        this(PublicKey.of(identity.publicKey()), identity::sign, System::currentTimeMillis, Integer.MAX_VALUE);
    }

    /** An engine signing as {@code sequencer} with {@code sign}; outside OSGi (benchmarks, tests). */
    public SoloEngine(PublicKey sequencer, UnaryOperator<byte[]> sign, LongSupplier clock, int maxBlockTransactions) {
        this.sequencer = sequencer;
        this.sign = sign;
        this.clock = clock;
        this.maxBlockTransactions = maxBlockTransactions;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public synchronized void start(EngineContext context) {
        if (thread != null) {
            throw new IllegalStateException("the solo engine is running already");
        }
        running = true;
        thread = new Thread(() -> run(context), "solo-engine");
        thread.start();
    }

    private void run(EngineContext context) {
        try {
            while (running && context.head().height() < context.lastHeight()) {
                if (!context.awaitTransactions(IDLE_WAIT_MILLIS)) {
                    continue;
                }
                BlockHeader head = context.head();
                List<Transaction> candidates = context.candidates(head, maxBlockTransactions);
                Block block = context.propose(head, candidates, sequencer, clock.getAsLong());
                if (block.transactions().isEmpty()) {
                    Thread.sleep(IDLE_WAIT_MILLIS / 10); // candidates that no longer apply: the mempool prunes them
                    continue;
                }
                long height = block.header().height();
                context.commit(block, CommitCertificate.signedBy(NAME, context.chainId(), height, block.header().hash(),
                        sequencer, sign));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Rejection | RuntimeException e) {
            // A block the sequencer made itself did not commit: storage failed or the code is wrong. Stop
            // rather than fork; the chain's health check shows the engine is no longer committing.
            LOG.error("the solo engine stopped at height {}: {}", context.head().height(), e.getMessage(), e);
        } finally {
            running = false;
        }
    }

    @Override
    @Deactivate
    public void stop() {
        Thread stopping;
        synchronized (this) {
            stopping = thread;
            thread = null;
            running = false;
        }
        if (stopping != null) {
            // Not interrupted: an interrupt inside the block log's file operations would close its channels.
            // The thread notices within one idle wait.
            try {
                stopping.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
