package org.commonweal.consensus.bft.engine;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The engine's inbox of network messages: a bounded queue per sender, served round-robin. A validator that
 * floods well-formed messages fills only its own queue (its excess is dropped) and gets its turn like every
 * other sender, so it can neither grow the heap nor crowd out the honest validators' votes.
 */
final class FairInbox {

    private final int perSender;
    private final Map<Integer, ArrayDeque<Runnable>> queues = new HashMap<>();
    /** Senders with something waiting, in the order they will be served. */
    private final ArrayDeque<Integer> turns = new ArrayDeque<>();

    FairInbox(int perSender) {
        this.perSender = perSender;
    }

    /** Queues {@code event} from {@code sender}; false (dropped) if that sender's queue is full. */
    synchronized boolean offer(int sender, Runnable event) {
        ArrayDeque<Runnable> queue = queues.computeIfAbsent(sender, s -> new ArrayDeque<>());
        if (queue.size() >= perSender) {
            return false;
        }
        queue.add(event);
        if (queue.size() == 1) {
            turns.add(sender);
        }
        notifyAll();
        return true;
    }

    /** The next sender's oldest event, waiting up to {@code timeoutMillis} (0: not at all); null if none came. */
    synchronized Runnable poll(long timeoutMillis) throws InterruptedException {
        if (turns.isEmpty() && timeoutMillis > 0) {
            wait(timeoutMillis);
        }
        if (turns.isEmpty()) {
            return null;
        }
        int sender = turns.poll();
        ArrayDeque<Runnable> queue = queues.get(sender);
        Runnable event = queue.poll();
        if (!queue.isEmpty()) {
            turns.add(sender); // back of the line
        }
        return event;
    }

    synchronized void clear() {
        queues.clear();
        turns.clear();
    }
}
