package org.commonweal.chain;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import org.commonweal.consensus.CommitCertificate;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Account;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.BlockHeader;
import org.commonweal.ledger.Mempool;
import org.commonweal.ledger.ProvenAccount;
import org.commonweal.ledger.ProvenEntry;
import org.commonweal.ledger.StateView;
import org.commonweal.ledger.Transaction;
import org.osgi.annotation.versioning.ProviderType;

/** The node's chain. Thread-safe; reads see one committed block at a time. */
@ProviderType
public interface Chain {

    int chainId();

    /** The last committed block's header. */
    BlockHeader head();

    /** Admits transactions to the mempool (signatures checked in a batch); one admission each, in order. */
    List<Mempool.Admission> submit(List<Transaction> txs);

    /** The committed block at {@code height}, if the chain is that high. */
    Optional<Block> block(long height);

    /** The commit certificate of the committed block at {@code height} (empty for genesis or beyond the head). */
    Optional<CommitCertificate> certificate(long height);

    /** The height of the committed block with this header hash. */
    Optional<Long> height(byte[] blockHash);

    /** Where the transaction with this id is: committed (with its place), pending, or unknown (empty). */
    Optional<TransactionStatus> transaction(byte[] id);

    /**
     * Waits up to {@code timeoutMillis} for the transaction to be committed and returns its status then
     * (pending if the time ran out; empty if the node does not know it).
     */
    Optional<TransactionStatus> awaitCommitted(byte[] id, long timeoutMillis) throws InterruptedException;

    /** The committed account of {@code key} ({@link Account#EMPTY} if none). */
    Account account(PublicKey key);

    /** The committed account with its proof and the header it proves against; empty if no such account. */
    Optional<ProvenAccount> prove(PublicKey key);

    /** The committed state entry {@code namespace/key} with its proof and the header it proves against; empty if absent. */
    Optional<ProvenEntry> proveEntry(String namespace, byte[] key);

    /** The committed state (accounts and entries) of one block, read-only: for queries by other bundles. */
    StateView state();

    /**
     * Calls {@code listener} with every block committed from now on, in order, on the committing thread
     * (keep it short; hand work off). Closing the returned handle unsubscribes.
     */
    AutoCloseable subscribe(Consumer<Block> listener);

    /** Transactions waiting in the mempool. */
    int pendingTransactions();

    /** The consensus engine committing blocks now, or empty while none is (not yet installed, handing over). */
    Optional<String> engine();
}
