package org.commonweal.ledger;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A kind of transaction payload: the ledger's extension point. The ledger checks what every
 * transaction shares (chain, signature, nonce, the fee) and charges the fee; the payload type checks
 * its payload and says what it changes, through {@link StateChanges}. Bundles add types by
 * registering this interface as an OSGi service (the chain picks them up between blocks).
 * <p>
 * An implementation must be deterministic — the same transaction and state give the same changes or
 * the same rejection on every node: no clock, no randomness, no I/O, no floating point, no iteration
 * over hash-ordered collections. Every node of a chain must run the same set of types: a block using a
 * type a node lacks is invalid there ({@link Rejection.Reason#UNKNOWN_PAYLOAD_TYPE}).
 */
@ConsumerType
public interface PayloadType {

    /** The type id carried by transactions (unique within a chain; 1 is {@link Transfer}). */
    int id();

    /** A short lowercase name for people and the chain API, e.g. {@code transfer}. */
    String name();

    /**
     * Checks {@code tx}'s payload against the state seen through {@code changes} and records its effects
     * there. A {@link Rejection} (usually {@link Rejection.Reason#INVALID_PAYLOAD}) discards every change
     * of the transaction, its fee included.
     */
    void execute(Transaction tx, StateChanges changes) throws Rejection;
}
