package org.commonweal.inference.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class StopStringsTest {

    /** What each delta lets out, as a list, then "|" and the flush (or "STOPPED"). */
    private static List<String> stream(List<String> stops, String... deltas) {
        StopStrings s = new StopStrings(stops);
        String[] out = new String[deltas.length + 1];
        for (int i = 0; i < deltas.length; i++) {
            out[i] = s.accept(deltas[i]);
        }
        out[deltas.length] = s.stopped() ? "STOPPED" : "|" + s.flush();
        return Arrays.asList(out);
    }

    @Test
    void withoutStopsEverythingPassesAtOnce() {
        assertEquals(List.of("Hello", " world", "|"), stream(List.of(), "Hello", " world"));
    }

    @Test
    void aStopInOneDeltaCutsTheTextBeforeIt() {
        StopStrings s = new StopStrings(List.of("STOP"));
        assertEquals("Hello ", s.accept("Hello STOP world"));
        assertTrue(s.stopped());
        assertEquals("", s.accept("more"));
        assertEquals("", s.flush());
    }

    @Test
    void aStopSplitAcrossDeltasIsHeldBackThenDropped() {
        assertEquals(List.of("Hel", "lo ", "", "", "STOPPED"), stream(List.of("STOP"), "Hel", "lo ST", "O", "P more"));
    }

    @Test
    void aFalseStartIsReleasedOnceItCannotBeAStop() {
        assertEquals(List.of("a ", "", "START", "|"), stream(List.of("STOP"), "a S", "T", "ART"));
        assertEquals(List.of("a ", "|ST"), stream(List.of("STOP"), "a ST"));
    }

    @Test
    void overlappingPrefixesOfDifferentStopsAreAllHeld() {
        // "abc" could start "abcd" and its tail "bc" could start "bce": all of it is held until "bce" completes.
        assertEquals(List.of("", "", "a", "STOPPED"), stream(List.of("abcd", "bce"), "ab", "c", "e"));
        assertEquals(List.of("", "", "", "STOPPED"), stream(List.of("abcd", "bce"), "ab", "c", "d"));
        assertEquals(List.of("", "", "abcx", "|"), stream(List.of("abcd", "bce"), "ab", "c", "x"));
    }

    @Test
    void aStopThatOverlapsItselfIsFound() {
        assertEquals(List.of("", "", "a", "", "STOPPED"), stream(List.of("aab"), "a", "a", "a", "b"));
        assertEquals(List.of("", "", "a", "aac", "|"), stream(List.of("aab"), "a", "a", "a", "c"));
    }

    @Test
    void theEarliestStopWins() {
        assertEquals(List.of("x ", "STOPPED"), stream(List.of("STOP", "END"), "x END y STOP"));
        assertEquals(List.of("x ", "STOPPED"), stream(List.of("END", "ENDING"), "x ENDING"));
    }

    @Test
    void theHeldTailIsFlushedAtTheEnd() {
        assertEquals(List.of("Hello ", "|S"), stream(List.of("STOP"), "Hello S"));
        assertEquals(List.of("", "", "|"), stream(List.of("STOP"), "", ""));
        assertEquals(List.of("ü ", "", "|<|e"), stream(List.of("<|eot|>"), "ü <", "|e"));
    }

    @Test
    void emptyOrNullStopStringsAreRefused() {
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> new StopStrings(List.of("a", "")));
        assertTrue(empty.getMessage().startsWith("stop string 1 is empty"), empty.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new StopStrings(null));
        assertThrows(IllegalArgumentException.class, () -> new StopStrings(List.of("a")).accept(null));
        assertFalse(new StopStrings(List.of("a")).stopped());
    }
}
