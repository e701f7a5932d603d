package org.commonweal.consensus.bft.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class FairInboxTest {

    @Test
    void aFloodingSenderFillsOnlyItsOwnQueueAndTheOthersAreServedInTurn() throws InterruptedException {
        FairInbox inbox = new FairInbox(100);
        List<String> served = new ArrayList<>();
        int accepted = 0;
        for (int i = 0; i < 10_000; i++) {
            if (inbox.offer(1, () -> served.add("flood"))) {
                accepted++;
            }
        }
        assertEquals(100, accepted, "the flooder's excess is dropped");
        for (int i = 0; i < 3; i++) {
            int n = i;
            assertTrue(inbox.offer(2, () -> served.add("vote " + n)));
        }
        for (int i = 0; i < 6; i++) {
            inbox.poll(10).run();
        }
        assertEquals(List.of("flood", "vote 0", "flood", "vote 1", "flood", "vote 2"), served,
                "served round-robin: the honest sender waits one turn, not behind 100 messages");
        int rest = 0;
        for (Runnable r = inbox.poll(1); r != null; r = inbox.poll(1)) {
            rest++;
        }
        assertEquals(97, rest);
        assertNull(inbox.poll(1), "empty: poll waits its time and returns null");
        assertTrue(inbox.offer(1, () -> { }), "a drained queue accepts again");
        inbox.clear();
        assertNull(inbox.poll(1));
        assertFalse(served.isEmpty());
    }
}
