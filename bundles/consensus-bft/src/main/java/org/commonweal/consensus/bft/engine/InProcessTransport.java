package org.commonweal.consensus.bft.engine;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

import org.commonweal.consensus.bft.protocol.Codec;
import org.commonweal.consensus.bft.protocol.Messages.Message;

/**
 * Validators in one JVM (tests, {@code cw bench consensus} in-process): every message is encoded and
 * decoded, as on a wire, and handed to the receiver's inbox.
 */
public final class InProcessTransport implements Transport {

    private final Map<Integer, BiConsumer<Integer, Message>> inboxes = new ConcurrentHashMap<>();

    @Override
    public void register(int validator, BiConsumer<Integer, Message> inbox) {
        inboxes.put(validator, inbox);
    }

    @Override
    public void unregister(int validator) {
        inboxes.remove(validator);
    }

    @Override
    public void send(int from, int to, Message message) {
        BiConsumer<Integer, Message> inbox = inboxes.get(to);
        if (inbox != null && to != from) {
            inbox.accept(from, Codec.decode(Codec.encode(message)));
        }
    }

    @Override
    public void broadcast(int from, Message message) {
        byte[] bytes = Codec.encode(message);
        inboxes.forEach((to, inbox) -> {
            if (to != from) {
                inbox.accept(from, Codec.decode(bytes));
            }
        });
    }
}
