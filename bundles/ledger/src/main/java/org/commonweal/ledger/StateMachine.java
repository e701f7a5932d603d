package org.commonweal.ledger;

import java.util.List;

import org.commonweal.crypto.PublicKey;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The application behind the chain, as a consensus engine sees it (in the manner of ABCI): check a
 * transaction, propose a block, execute a block, commit it, query an account with its proof, and
 * snapshot the committed state. One block is pending at most: {@link #execute} puts a block on top of
 * the committed head, {@link #commit} makes it the head, {@link #discard} drops it.
 * <p>
 * Every method is deterministic: the same committed blocks give the same head, state root and snapshot
 * bytes on every node. One thread at a time proposes, executes and commits; the reads of the committed
 * state ({@link #head}, {@link #account}, {@link #prove}, {@link #check}, {@link #snapshot}) are safe from
 * any thread and see one committed block, never a block in progress.
 */
@ProviderType
public interface StateMachine extends AccountView {

    /** The last committed block's header (the genesis header at first). */
    BlockHeader head();

    /** Whether {@code tx} would apply on the committed state now (its signature included). */
    void check(Transaction tx) throws Rejection;

    /**
     * A block on the committed head holding, in order, those of {@code candidates} (signatures already
     * verified) that apply, at most {@code maxTransactions}. Changes nothing.
     */
    Block propose(List<Transaction> candidates, PublicKey proposer, long timeMillis, int maxTransactions);

    /**
     * Validates {@code block} as the child of the head and executes it; it is pending until
     * {@link #commit()}. {@code signaturesChecked}: whoever hands it over has verified every signature.
     */
    void execute(Block block, boolean signaturesChecked) throws Rejection;

    /** Makes the pending block the head and returns its header. */
    BlockHeader commit();

    /** Drops the pending block, if any. */
    void discard();

    /**
     * The committed account of {@code key} with its proof and the head it proves against (both of one
     * committed block); empty if there is no such account.
     */
    java.util.Optional<ProvenAccount> prove(PublicKey key);

    /** The committed state and head in one canonical encoding, from which the state can be restored. */
    byte[] snapshot();

    /** The payload types for blocks executed from now on. */
    void payloadTypes(PayloadTypes types);
}
