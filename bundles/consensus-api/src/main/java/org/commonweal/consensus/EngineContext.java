package org.commonweal.consensus;

import java.util.List;
import java.util.Optional;

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

    /**
     * Up to {@code max} transactions for a block on {@code parent} (the head, or a block validated but not
     * yet committed), in the mempool's deterministic order, starting at each sender's nonce after
     * {@code parent}.
     */
    List<Transaction> candidates(BlockHeader parent, int max);

    /**
     * As {@link #candidates(BlockHeader, int)}, but each sender's transactions start at {@code firstNonce} of the
     * sender when that is higher: an engine that spreads transactions in batches before ordering them passes the
     * next nonce it has not batched yet, so it is not handed again what it has batched.
     */
    List<Transaction> candidates(BlockHeader parent, int max, java.util.function.ToLongFunction<PublicKey> firstNonce);

    /**
     * A block on {@code parent} (the head or a validated, uncommitted block) made of those
     * {@code candidates} that apply, at most the chain's block limit. Nothing becomes committed.
     */
    Block propose(BlockHeader parent, List<Transaction> candidates, PublicKey proposer, long timeMillis);

    /**
     * Checks that {@code block} is a valid child of its parent (the head or a block validated before):
     * links, signatures, execution, roots. What a validator does before voting; the block may then be the
     * parent of further proposals, and is dropped if a conflicting block is committed.
     */
    void validate(Block block) throws Rejection;

    /**
     * Makes {@code block}, a child of the head, the new head: executes it (unless validated already),
     * appends it with {@code certificate} to the block log (durable when this returns), updates the state,
     * the mempool and the subscribers. A block that is not a valid child of the head, or lies beyond
     * {@link #lastHeight()}, is refused and changes nothing.
     */
    void commit(Block block, CommitCertificate certificate) throws Rejection;

    /** A committed block with its certificate (for peers catching up), or empty beyond the head. */
    Optional<CommittedBlock> committed(long height);

    /** A committed block and the certificate it was committed with (none for genesis). */
    record CommittedBlock(Block block, Optional<CommitCertificate> certificate) {
    }
}
