package org.commonweal.consensus.bft.protocol;

import java.util.List;

/**
 * A quorum certificate: votes of a quorum for the block {@code blockId} of {@code round}. The genesis
 * certificate (round 0) certifies the genesis block and carries no votes.
 */
public record QuorumCert(long round, Id blockId, List<Signed> votes) {

    public QuorumCert {
        votes = List.copyOf(votes);
    }

    public static QuorumCert genesis(Id genesis) {
        return new QuorumCert(0, genesis, List.of());
    }

    /** Whether this is the genesis certificate or carries a quorum of valid, distinct votes. */
    public boolean valid(int chainId, ValidatorSet validators, Signatures signatures, Id genesis) {
        if (round == 0) {
            return votes.isEmpty() && blockId.equals(genesis);
        }
        return Signed.quorum(votes, validators, signatures, v -> Messages.voteBytes(chainId, round, blockId));
    }
}
