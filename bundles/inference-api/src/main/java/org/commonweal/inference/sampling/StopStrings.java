package org.commonweal.inference.sampling;

import java.util.List;

/**
 * Stop sequences over streamed text: text is emitted as soon as it cannot be the start of a stop string, and
 * nothing from the first stop string on is ever emitted (OpenAI's {@code stop}). One instance per response,
 * not thread-safe.
 */
public final class StopStrings {

    private final List<String> stops;
    /** Text received but not emitted: a tail that could still become a stop string. */
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    /** @param stops the stop strings, none empty; an empty list never stops */
    public StopStrings(List<String> stops) {
        if (stops == null) {
            throw new IllegalArgumentException("the list of stop strings is null (pass an empty list for none)");
        }
        for (int i = 0; i < stops.size(); i++) {
            String stop = stops.get(i);
            if (stop == null || stop.isEmpty()) {
                throw new IllegalArgumentException("stop string " + i + " is " + (stop == null ? "null" : "empty")
                        + ": every stop string needs at least one character");
            }
        }
        this.stops = List.copyOf(stops);
    }

    /**
     * Takes the next piece of generated text and returns what can be emitted now: everything before the first
     * stop string once one has appeared, otherwise everything but the longest tail that begins some stop string.
     * Returns "" once stopped.
     */
    public String accept(String delta) {
        if (delta == null) {
            throw new IllegalArgumentException("the text delta is null");
        }
        if (stopped) {
            return "";
        }
        held.append(delta);
        int first = firstStop();
        if (first >= 0) {
            stopped = true;
            String out = held.substring(0, first);
            held.setLength(0);
            return out;
        }
        // A stop string that began in text already emitted would have been a longer held tail, so this suffices.
        int emit = held.length() - longestTailStartingAStop();
        String out = held.substring(0, emit);
        held.delete(0, emit);
        return out;
    }

    /** Whether a stop string appeared: generation should end, and text from it on is never emitted. */
    public boolean stopped() {
        return stopped;
    }

    /** At the end of generation: the text held back (none once stopped). */
    public String flush() {
        String out = held.toString();
        held.setLength(0);
        return out;
    }

    private int firstStop() {
        int first = -1;
        for (String stop : stops) {
            int at = held.indexOf(stop);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        return first;
    }

    /** Whether the held text ends with the first {@code length} characters of {@code stop}. */
    private boolean heldEndsWith(String stop, int length) {
        int start = held.length() - length;
        for (int i = 0; i < length; i++) {
            if (held.charAt(start + i) != stop.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private int longestTailStartingAStop() {
        int longest = 0;
        for (String stop : stops) {
            for (int length = Math.min(stop.length() - 1, held.length()); length > longest; length--) {
                if (heldEndsWith(stop, length)) {
                    longest = length;
                    break;
                }
            }
        }
        return longest;
    }
}
