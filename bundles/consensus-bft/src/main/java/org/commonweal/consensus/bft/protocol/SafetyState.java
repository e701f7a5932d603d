package org.commonweal.consensus.bft.protocol;

/**
 * What a validator must never forget, or it could vote twice in a round after a crash: the highest
 * round it voted or timed out in, and its highest quorum certificate. Persisted before any vote or
 * timeout message leaves the node.
 */
public record SafetyState(long highestVotedRound, QuorumCert highQc) {
}
