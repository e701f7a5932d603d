package org.commonweal.consensus.bft.protocol;

import java.util.List;

import org.commonweal.crypto.PublicKey;

/**
 * The validators of a chain, in a fixed order (every node has the same list): n = 3f + 1 or more, any
 * {@link #quorum()} of them (n - f) intersect in at least one honest validator. The leader of round r
 * is validator {@code r mod n} (round-robin rotation).
 */
public record ValidatorSet(List<PublicKey> keys) {

    public ValidatorSet {
        keys = List.copyOf(keys);
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("a validator set needs at least one validator");
        }
        if (keys.stream().distinct().count() != keys.size()) {
            throw new IllegalArgumentException("a validator set lists each key once");
        }
    }

    public int size() {
        return keys.size();
    }

    /** The most Byzantine validators tolerated: f = (n - 1) / 3. */
    public int faults() {
        return (size() - 1) / 3;
    }

    /** Votes that make a certificate: n - f. */
    public int quorum() {
        return size() - faults();
    }

    public int leader(long round) {
        return (int) Math.floorMod(round, (long) size());
    }

    public PublicKey key(int validator) {
        return keys.get(validator);
    }
}
