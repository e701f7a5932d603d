package org.commonweal.consensus.bft.engine;

import java.util.function.BiConsumer;

import org.commonweal.consensus.bft.protocol.Messages.Message;

/** How validators reach each other: authenticated point-to-point delivery, by validator index. */
public interface Transport {

    /** Delivers messages for {@code validator} to {@code inbox} (sender index, message) from now on. */
    void register(int validator, BiConsumer<Integer, Message> inbox);

    /** Stops delivering to {@code validator}. */
    void unregister(int validator);

    void send(int from, int to, Message message);

    /** To every registered validator but {@code from}. */
    void broadcast(int from, Message message);
}
