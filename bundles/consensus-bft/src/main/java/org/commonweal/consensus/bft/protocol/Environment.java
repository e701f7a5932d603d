package org.commonweal.consensus.bft.protocol;

import org.commonweal.consensus.bft.protocol.Messages.Block;
import org.commonweal.consensus.bft.protocol.Messages.Message;

/**
 * Everything {@link Jolteon} does to the world, so that the protocol itself stays a pure,
 * single-threaded state machine a simulation can drive.
 */
public interface Environment {

    /** Sends to one validator (never to oneself). */
    void send(int to, Message message);

    /** Sends to every other validator. */
    void broadcast(Message message);

    /** Makes the safety state durable; returns only when it is (a vote or timeout leaves after this). */
    void persist(SafetyState state);

    /** A block is final: called once per block, in chain order, with the certificate that made it final. */
    void commit(Block block, QuorumCert finalisedBy);

    /** Calls {@link Jolteon#onTimer(long)} for {@code round} after {@code delayMillis} (replacing any earlier timer). */
    void setTimer(long round, long delayMillis);

    /** The payload a new block on {@code parent} orders (the leader's batch or ledger block). */
    byte[] payload(Block parent);

    /** Whether {@code block}'s payload is valid on its parent (executed before voting); deterministic. */
    boolean validPayload(Block block, Block parent);
}
