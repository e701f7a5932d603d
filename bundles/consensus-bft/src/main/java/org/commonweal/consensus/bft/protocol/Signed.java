package org.commonweal.consensus.bft.protocol;

import java.util.BitSet;
import java.util.List;
import java.util.function.Function;

/** One validator's signature, and a value it signed about (e.g. its highest certificate's round). */
public record Signed(int validator, long value, byte[] signature) {

    /**
     * Whether {@code signed} holds a quorum of distinct validators, each signature valid over the bytes
     * {@code message} gives for it.
     */
    static boolean quorum(List<Signed> signed, ValidatorSet validators, Signatures signatures, Function<Signed, byte[]> message) {
        BitSet seen = new BitSet();
        for (Signed s : signed) {
            if (s.validator() < 0 || s.validator() >= validators.size() || seen.get(s.validator())
                    || !signatures.verify(s.validator(), message.apply(s), s.signature())) {
                return false;
            }
            seen.set(s.validator());
        }
        return seen.cardinality() >= validators.quorum();
    }
}
