package org.commonweal.chain.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Which consensus engine commits which heights: entries {@code name@firstHeight}, e.g.
 * {@code solo@1, bft@5000} — solo commits blocks 1..4999, then BFT from 5000 on. Every node of a chain
 * has the same schedule, so all hand over at the same block and none forks.
 */
record EngineSchedule(List<Slot> slots) {

    /** An engine and the heights it commits, {@code first..last} inclusive. */
    record Slot(String engine, long first, long last) {
    }

    static EngineSchedule parse(String[] entries) {
        if (entries.length == 0) {
            throw new IllegalArgumentException("no consensus engine is scheduled: set engines, e.g. [\"solo@1\"]");
        }
        List<String> names = new ArrayList<>();
        List<Long> firsts = new ArrayList<>();
        for (String entry : entries) {
            String[] parts = entry.trim().split("@", -1);
            long first;
            try {
                first = parts.length == 2 ? Long.parseLong(parts[1].trim()) : -1;
            } catch (NumberFormatException e) {
                first = -1;
            }
            if (parts.length != 2 || parts[0].isBlank() || first < 1) {
                throw new IllegalArgumentException("engine schedule entry '" + entry + "' is not name@height with a"
                        + " height of at least 1 (e.g. solo@1)");
            }
            if (!firsts.isEmpty() && first <= firsts.getLast()) {
                throw new IllegalArgumentException("engine schedule entry '" + entry + "' does not start after the"
                        + " previous entry's height " + firsts.getLast());
            }
            names.add(parts[0].trim());
            firsts.add(first);
        }
        if (firsts.getFirst() != 1) {
            throw new IllegalArgumentException("the engine schedule must start at height 1 (the first block after"
                    + " genesis), not " + firsts.getFirst());
        }
        List<Slot> slots = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            slots.add(new Slot(names.get(i), firsts.get(i), i + 1 < names.size() ? firsts.get(i + 1) - 1 : Long.MAX_VALUE));
        }
        return new EngineSchedule(List.copyOf(slots));
    }

    /** The slot that commits {@code height}. */
    Slot slotFor(long height) {
        Slot found = slots.getFirst();
        for (Slot slot : slots) {
            if (slot.first() <= height) {
                found = slot;
            }
        }
        return found;
    }

    @Override
    public String toString() {
        return slots.stream().map(s -> s.engine() + "@" + s.first()).reduce((a, b) -> a + ", " + b).orElse("");
    }
}
