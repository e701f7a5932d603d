package org.commonweal.ledger;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A rule the ledger runs once per block, after the block's transactions: the extension point for what
 * belongs to blocks rather than to transactions (emitting rewards, clearing per-block tallies) and for
 * invariants a whole block must keep. Bundles add rules by registering this interface as an OSGi
 * service; rules run in {@link #name()} order, each {@link #endBlock} seeing the changes of the rules
 * before it, then every rule's {@link #checkInvariants}.
 * <p>
 * Deterministic like a {@link PayloadType}: the block's header ({@link BlockContext}) and the state are
 * all a rule may read. A rule that writes the state on every block changes every state root, so every
 * node of a chain must run the same rules from the same height (a rule with its own activation height
 * does nothing before it). A rejection from either method makes the block invalid: a proposer cannot
 * make it, validators refuse it ({@link Rejection.Reason#INVALID_BLOCK}).
 */
@ConsumerType
public interface BlockRule {

    /** A short, unique, lowercase name: rules run in this order. */
    String name();

    /** Records what the block changes besides its transactions (entries, credits, debits). */
    void endBlock(BlockContext block, StateChanges changes) throws Rejection;

    /**
     * Checks the state after the block (after every rule's {@link #endBlock}); read-only. The default
     * checks nothing. Use {@link Rejection.Reason#INVARIANT_VIOLATED}.
     */
    default void checkInvariants(BlockContext block, StateView state) throws Rejection {
    }
}
