package org.commonweal.consensus.bft.protocol;

/**
 * How one validator signs, and checks the others' signatures. In a node: Ed25519 with the node key.
 * In the simulation: the same, or a keyed hash when thousands of runs must be fast (each simulated
 * validator holds only its own secret, so nobody forges another's signature there either).
 */
public interface Signatures {

    /** This validator's signature of {@code message}. */
    byte[] sign(byte[] message);

    /** Whether {@code signature} is validator {@code validator}'s over {@code message}. */
    boolean verify(int validator, byte[] message, byte[] signature);
}
