package org.commonweal.consensus.bft.protocol;

import java.util.List;

/**
 * A timeout certificate: a quorum's timeout signatures for {@code round}, each over the round and the
 * signer's highest certified round ({@link Signed#value()}). It lets the next leader propose without a
 * certificate of the previous round, on a parent at least as high as every signer's.
 */
public record TimeoutCert(long round, List<Signed> signed) {

    public TimeoutCert {
        signed = List.copyOf(signed);
    }

    /** The highest certified round any signer reported: a block after this certificate must extend one that high. */
    public long highestQcRound() {
        return signed.stream().mapToLong(Signed::value).max().orElse(0);
    }

    public boolean valid(int chainId, ValidatorSet validators, Signatures signatures) {
        return Signed.quorum(signed, validators, signatures, s -> Messages.timeoutBytes(chainId, round, s.value()));
    }
}
