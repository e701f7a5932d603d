package org.commonweal.consensus;

import java.util.List;

import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.BlockHeader;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What the chain gives a running engine: the committed head, the mempool's candidates, block
 * proposal and validation on the ledger, and {@link #commit}, the one way a block becomes part of the
 * chain. Thread-safe.
 */
@ProviderType
public interface EngineContext {

    int chainId();

    /** The last committed block's header. */
    BlockHeader head();

    /**
     * The last height this engine may commit ({@link Long#MAX_VALUE} if no engine follows it). After
     * committing it the engine is stopped and the next engine of the schedule takes over.
     */
    long lastHeight();

    /** Waits up to {@code timeoutMillis} until the mempool holds a transaction; true if it does. */
    boolean awaitTransactions(long timeoutMillis) throws InterruptedException;

    /** Up to {@code max} transactions for the next block, in the mempool's deterministic order. */
    List<Transaction> candidates(int max);

    /**
     * A block on the head made of those {@code candidates} that apply, at most the chain's block limit.
     * Changes nothing.
     */
    Block propose(List<Transaction> candidates, PublicKey proposer, long timeMillis);

    /**
     * Checks that {@code block} is a valid child of the head (links, signatures, execution, roots): what a
     * validator does before voting for it. Changes nothing that {@link #commit} would not redo.
     */
    void validate(Block block) throws Rejection;

    /**
     * Makes {@code block} the new head: executes it, appends it with {@code certificate} to the block log
     * (durable when this returns), updates the state, the mempool and the subscribers. A block that is not
     * a valid child of the head, or lies beyond {@link #lastHeight()}, is refused and changes nothing.
     */
    void commit(Block block, CommitCertificate certificate) throws Rejection;
}
