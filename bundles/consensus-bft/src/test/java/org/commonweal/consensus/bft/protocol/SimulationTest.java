package org.commonweal.consensus.bft.protocol;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Jolteon under a deterministic simulation: thousands of seeds per build (-Dbft.seeds=N for more,
 * -Dbft.seed=S to replay one). Honest validators also crash and restart from their persisted safety state
 * (0 to 2 times a run). Every run checks safety (no two honest validators commit different blocks at one
 * position; no honest validator, across restarts, signs votes for two blocks in one round) and liveness
 * (after the network stabilises, every honest validator keeps committing).
 */
class SimulationTest {

    private static final int SEEDS = Integer.getInteger("bft.seeds", 1_000);
    private static final Long ONE_SEED = Long.getLong("bft.seed");

    private static List<Long> seeds(int count) {
        if (ONE_SEED != null) {
            return List.of(ONE_SEED);
        }
        return java.util.stream.LongStream.range(1, count + 1).boxed().toList();
    }

    /** Unstable for 3 s, then 5 s (all honest) or 12 s (a faulty validator: half the rounds fail) to show progress. */
    private static Simulation.Settings settings(long seed, Map<Integer, Simulation.Fault> faults) {
        return new Simulation.Settings(4, seed, 0.15, 0.05, 40, 3_000, faults.isEmpty() ? 8_000 : 15_000, true, faults,
                (int) (seed % 3));
    }

    /** Safety across every pair of honest validators, and progress after stabilisation; the seed in every message. */
    private static void check(Simulation simulation, long seed, String what) {
        assertTrue(simulation.doubleVotes.isEmpty(), what + ", seed " + seed + ": " + simulation.doubleVotes);
        List<Simulation.Node> honest = simulation.honest();
        for (Simulation.Node a : honest) {
            for (Simulation.Node b : honest) {
                int common = Math.min(a.committed.size(), b.committed.size());
                for (int i = 0; i < common; i++) {
                    if (!a.committed.get(i).equals(b.committed.get(i))) {
                        fail(what + ", seed " + seed + " (replay with -Dbft.seed=" + seed + "): validators " + a.index
                                + " and " + b.index + " committed different blocks at position " + i + ": "
                                + a.committed.get(i) + " and " + b.committed.get(i));
                    }
                }
            }
            int progress = a.committed.size() - a.committedAtStabilisation;
            assertTrue(progress >= 3, what + ", seed " + seed + " (replay with -Dbft.seed=" + seed + "): validator "
                    + a.index + " committed only " + progress + " blocks after the network stabilised (round "
                    + a.jolteon.round() + ")");
        }
    }

    @Test
    void honestValidatorsStaySafeAndLiveUnderDropsDuplicatesReorderingAndPartitions() {
        for (long seed : seeds(SEEDS)) {
            check(new Simulation(settings(seed, Map.of())).run(), seed, "all honest");
        }
    }

    @Test
    void oneByzantineValidatorOfFourCannotBreakSafetyOrStopProgress() {
        int perFault = Math.max(1, SEEDS / 5);
        for (Simulation.Fault fault : Simulation.Fault.values()) {
            for (long seed : seeds(perFault)) {
                int faulty = (int) (seed % 4);
                check(new Simulation(settings(seed, Map.of(faulty, fault))).run(), seed, fault + " validator " + faulty);
            }
        }
    }

    @Test
    void aStableNetworkCommitsInEveryRoundWithoutTimeouts() {
        Simulation simulation = new Simulation(new Simulation.Settings(4, 42, 0, 0, 10, 0, 2_000, false, Map.of(), 0)).run();
        check(simulation, 42, "stable");
        for (Simulation.Node node : simulation.honest()) {
            // 2,000 ms, rounds of a few message delays (<= 10 ms each): far more than 50 commits when nothing times out.
            assertTrue(node.committed.size() > 50, "validator " + node.index + " committed " + node.committed.size());
        }
    }
}
