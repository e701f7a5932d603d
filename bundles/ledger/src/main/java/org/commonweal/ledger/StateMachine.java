package org.commonweal.ledger;

import java.util.List;
import java.util.Optional;

import org.commonweal.crypto.PublicKey;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The application behind the chain, as a consensus engine sees it (in the manner of ABCI): check a
 * transaction, propose a block, execute a block, commit it, query an account with its proof, and
 * snapshot the committed state.
 * <p>
 * Blocks are executed before they are committed, and a pipelined engine (2-chain HotStuff) proposes
 * and votes on blocks whose parents are not committed yet: so executed blocks form a tree of
 * <em>pending</em> blocks hanging off the committed head, each with its own state. {@link #commit}
 * makes a pending child of the head the new head and drops the pending blocks that no longer descend
 * from it.
 * <p>
 * Every method is deterministic: the same committed blocks give the same head, state root and snapshot
 * bytes on every node. One thread at a time proposes, executes and commits; the reads of the committed
 * state ({@link #head}, {@link #account}, {@link #prove}, {@link #checkApplies}, {@link #snapshot}) are
 * safe from any thread and see one committed block, never a block in progress.
 */
@ProviderType
public interface StateMachine extends AccountView {

    /** The last committed block's header (the genesis header at first). */
    BlockHeader head();

    /** Whether {@code tx} would apply on the committed state now (its signature included). */
    void check(Transaction tx) throws Rejection;

    /**
     * A block on {@code parent} (the head or a pending block) holding, in order, those of
     * {@code candidates} (signatures already verified) that apply, at most {@code maxTransactions}.
     * Changes nothing that {@link #execute} of the same block would not do.
     */
    Block propose(BlockHeader parent, List<Transaction> candidates, PublicKey proposer, long timeMillis, int maxTransactions);

    /**
     * Validates {@code block} as the child of its parent (the head or a pending block) and executes it:
     * it becomes pending, a possible parent for later blocks. {@code signaturesChecked}: whoever hands it
     * over has verified every signature.
     */
    void execute(Block block, boolean signaturesChecked) throws Rejection;

    /** The state after the head or a pending block (for choosing transactions to propose on it). */
    Optional<AccountView> stateAfter(BlockHeader block);

    /**
     * Makes the pending block with this header hash, a child of the head, the new head, returns its
     * header, and drops every pending block that does not descend from it.
     */
    BlockHeader commit(byte[] blockHash);

    /** Drops every pending block. */
    void discard();

    /**
     * The committed account of {@code key} with its proof and the head it proves against (both of one
     * committed block); empty if there is no such account.
     */
    Optional<ProvenAccount> prove(PublicKey key);

    /**
     * The committed state, read-only, for queries (accounts and entries of one committed block). Never
     * changes: a commit replaces it.
     */
    StateView committedState();

    /** The committed entry {@code namespace/key} with its proof and the head it proves against; empty if absent. */
    Optional<ProvenEntry> proveEntry(String namespace, byte[] key);

    /** The committed state and head in one canonical encoding, from which the state can be restored. */
    byte[] snapshot();

    /** The payload types for blocks executed from now on. */
    void payloadTypes(PayloadTypes types);
}
