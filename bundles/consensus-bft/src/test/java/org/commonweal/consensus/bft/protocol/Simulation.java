package org.commonweal.consensus.bft.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

import org.commonweal.consensus.bft.protocol.Messages.Block;
import org.commonweal.consensus.bft.protocol.Messages.Message;
import org.commonweal.consensus.bft.protocol.Messages.Proposal;
import org.commonweal.consensus.bft.protocol.Messages.Timeout;
import org.commonweal.consensus.bft.protocol.Messages.Vote;
import org.commonweal.crypto.Sha256;

/**
 * A deterministic simulation of a Jolteon network: one thread, one seeded random source, a virtual
 * clock, and a network that delays, drops, duplicates and reorders messages and partitions validators
 * until the "global stabilisation time", after which every message arrives within a bound. Byzantine
 * validators (up to f) replace the honest behaviour of some validators. The same seed replays exactly.
 */
final class Simulation {

    /** What a faulty validator does instead of following the protocol. */
    enum Fault {
        /** Sends nothing (a crash, or withheld votes and proposals). */
        SILENT,
        /** As leader, proposes two different blocks to two halves of the validators. */
        EQUIVOCATE,
        /** Votes for every proposal it sees, and for blocks that do not exist, in every round. */
        DOUBLE_VOTE,
        /** Every signature it sends is corrupted. */
        BAD_SIGNATURES,
        /** Sends again, later and to anyone, messages it sent before. */
        REPLAY,
        /** Two honest instances with one key, each talking to a different half of the network. */
        TWINS
    }

    record Settings(int validators, long seed, double dropRate, double duplicateRate, long maxDelayMillis,
            long stabilisationMillis, long endMillis, boolean partitions, Map<Integer, Fault> faults, int crashes) {
    }

    private record Event(long time, long sequence, Runnable action) {
    }

    private final Settings settings;
    private final SplittableRandom random;
    private final PriorityQueue<Event> events = new PriorityQueue<>((a, b) -> a.time != b.time
            ? Long.compare(a.time, b.time) : Long.compare(a.sequence, b.sequence));
    private long now;
    private long sequence;
    private final ValidatorSet validators;
    private final byte[][] secrets;
    /** One or two instances per validator index (two for twins). */
    private final List<List<Node>> nodes = new ArrayList<>();
    /** Partition groups while partitioned: validator -> group. */
    private int[] group;
    /** Every vote an honest validator ever signed: (validator, round) -> block; a second block is a violation. */
    private final Map<List<Long>, Id> honestVotes = new HashMap<>();
    final List<String> doubleVotes = new ArrayList<>();
    private static final byte[] VOTE_TAG = "commonweal/bft/vote/v1".getBytes();

    /** A simulated validator instance: the protocol, its environment, what it committed. */
    final class Node implements Environment {
        final int index;
        final int twin;
        final Fault fault;
        Jolteon jolteon;
        int epoch;
        Block lastCommitted;
        final List<Id> committed = new ArrayList<>();
        final Map<Long, Long> timerGeneration = new HashMap<>();
        final List<Message> sent = new ArrayList<>();
        SafetyState persisted;
        int payloads;
        int committedAtStabilisation;
        int restarts;

        Node(int index, int twin, Fault fault) {
            this.index = index;
            this.twin = twin;
            this.fault = fault;
            this.jolteon = new Jolteon(7, validators, index, signer(index, fault == Fault.BAD_SIGNATURES), this, 100,
                    "genesis".getBytes(), null, null);
        }

        /** A crash: everything in memory is lost; the persisted safety state and the committed chain survive. */
        void restart() {
            epoch++;
            timerGeneration.clear();
            jolteon = new Jolteon(7, validators, index, signer(index, false), this, 100, "genesis".getBytes(), persisted,
                    lastCommitted);
            restarts++;
            jolteon.start();
        }

        boolean honest() {
            return fault == null;
        }

        @Override
        public void send(int to, Message message) {
            out(to, message);
        }

        @Override
        public void broadcast(Message message) {
            if (fault == Fault.EQUIVOCATE && message instanceof Proposal p) {
                Block other = new Block(p.block().round(), index, p.block().parent(), p.block().timeout(),
                        ("equivocation " + p.block().round()).getBytes());
                Proposal second = new Proposal(other, signer(index, false).sign(Messages.proposalBytes(7, other.id())));
                for (int to = 0; to < validators.size(); to++) {
                    if (to != index) {
                        out(to, to % 2 == 0 ? p : second);
                    }
                }
                return;
            }
            for (int to = 0; to < validators.size(); to++) {
                if (to != index) {
                    out(to, message);
                }
            }
        }

        private void out(int to, Message message) {
            if (fault == Fault.SILENT) {
                return;
            }
            sent.add(message);
            if (fault == Fault.DOUBLE_VOTE && message instanceof Vote v) {
                byte[] fake = Sha256.hash(ByteBuffer.allocate(8).putLong(v.round()).array());
                Id fakeId = new Id(fake);
                Signatures mine = signer(index, false);
                network(index, twin, to, new Vote(v.round(), fakeId, new Signed(index, 0,
                        mine.sign(Messages.voteBytes(7, v.round(), fakeId)))));
            }
            network(index, twin, to, message);
        }

        @Override
        public void persist(SafetyState state) {
            persisted = state;
        }

        @Override
        public void commit(Block block, QuorumCert finalisedBy) {
            committed.add(block.id());
            lastCommitted = block;
        }

        @Override
        public void setTimer(long round, long delayMillis) {
            long generation = timerGeneration.merge(round, 1L, Long::sum);
            int timerEpoch = epoch;
            schedule(delayMillis, () -> {
                if (timerEpoch == epoch && timerGeneration.get(round) == generation) {
                    jolteon.onTimer(round);
                    replayIfFaulty();
                }
            });
        }

        private void replayIfFaulty() {
            if (fault == Fault.REPLAY && !sent.isEmpty()) {
                for (int i = 0; i < 3; i++) {
                    network(index, twin, random.nextInt(validators.size()), sent.get(random.nextInt(sent.size())));
                }
            }
        }

        @Override
        public byte[] payload(Block parent) {
            return ("block " + (++payloads) + " by " + index + "/" + twin).getBytes();
        }

        @Override
        public boolean validPayload(Block block, Block parent) {
            return true;
        }

        void receive(int from, Message message) {
            if (fault == Fault.DOUBLE_VOTE && message instanceof Proposal p) {
                Id id = p.block().id();
                int next = validators.leader(p.block().round() + 1);
                Vote extra = new Vote(p.block().round(), id, new Signed(index, 0,
                        signer(index, false).sign(Messages.voteBytes(7, p.block().round(), id))));
                if (next != index) {
                    network(index, twin, next, extra);
                }
            }
            jolteon.onMessage(from, message);
        }
    }

    Simulation(Settings settings) {
        this.settings = settings;
        this.random = new SplittableRandom(settings.seed());
        this.secrets = new byte[settings.validators()][];
        List<org.commonweal.crypto.PublicKey> keys = new ArrayList<>();
        for (int i = 0; i < settings.validators(); i++) {
            secrets[i] = Sha256.hash(("secret " + settings.seed() + " " + i).getBytes());
            byte[] key = Sha256.hash(("key " + i).getBytes());
            keys.add(org.commonweal.crypto.PublicKey.of(key));
        }
        this.validators = new ValidatorSet(keys);
        for (int i = 0; i < settings.validators(); i++) {
            Fault fault = settings.faults().get(i);
            List<Node> instances = new ArrayList<>();
            instances.add(new Node(i, 0, fault));
            if (fault == Fault.TWINS) {
                instances.add(new Node(i, 1, fault));
            }
            nodes.add(instances);
        }
    }

    /** Keyed-hash signatures: validator i's secret signs; verification recomputes with the signer's secret. */
    private Signatures signer(int me, boolean corrupt) {
        return new Signatures() {
            @Override
            public byte[] sign(byte[] message) {
                if (!settings.faults().containsKey(me) && message.length == VOTE_TAG.length + 4 + 8 + 32
                        && Arrays.equals(message, 0, VOTE_TAG.length, VOTE_TAG, 0, VOTE_TAG.length)) {
                    ByteBuffer in = ByteBuffer.wrap(message, VOTE_TAG.length + 4, 40);
                    long round = in.getLong();
                    byte[] id = new byte[32];
                    in.get(id);
                    Id previous = honestVotes.putIfAbsent(List.of((long) me, round), new Id(id));
                    if (previous != null && !previous.equals(new Id(id))) {
                        doubleVotes.add("validator " + me + " signed votes for " + previous + " and " + new Id(id)
                                + " in round " + round);
                    }
                }
                byte[] signature = Arrays.copyOf(mac(me, message), 64);
                if (corrupt) {
                    signature[0] ^= 1;
                }
                return signature;
            }

            @Override
            public boolean verify(int validator, byte[] message, byte[] signature) {
                return validator >= 0 && validator < secrets.length && signature.length == 64
                        && Arrays.equals(Arrays.copyOf(mac(validator, message), 64), signature);
            }
        };
    }

    private byte[] mac(int validator, byte[] message) {
        return Sha256.hash(ByteBuffer.allocate(32 + message.length).put(secrets[validator]).put(message).array());
    }

    private void schedule(long delay, Runnable action) {
        events.add(new Event(now + delay, sequence++, action));
    }

    private boolean connected(int from, int fromTwin, int to, int toTwin) {
        List<Node> twins = nodes.get(to);
        if (twins.size() == 2 && (from % 2) != toTwin) {
            return false; // each twin hears one half of the network
        }
        if (nodes.get(from).size() == 2 && (to % 2) != fromTwin) {
            return false; // and speaks to that half
        }
        return group == null || group[from] == group[to];
    }

    private void network(int from, int fromTwin, int to, Message message) {
        if (to == from) {
            return;
        }
        boolean unstable = now < settings.stabilisationMillis();
        int copies = unstable && random.nextDouble() < settings.duplicateRate() ? 2 : 1;
        for (int c = 0; c < copies; c++) {
            if (unstable && random.nextDouble() < settings.dropRate()) {
                continue;
            }
            long delay = 1 + random.nextLong(unstable ? settings.maxDelayMillis() * 3 : settings.maxDelayMillis());
            for (Node node : nodes.get(to)) {
                schedule(delay, () -> {
                    if (connected(from, fromTwin, to, node.twin)) {
                        node.receive(from, message);
                    }
                });
            }
        }
    }

    /** Runs to the end time; returns this for the checks. */
    Simulation run() {
        for (List<Node> instances : nodes) {
            for (Node node : instances) {
                schedule(random.nextLong(20), node.jolteon::start);
            }
        }
        if (settings.partitions()) {
            schedulePartitions();
        }
        for (int c = 0; c < settings.crashes(); c++) { // honest validators crash and restart before stabilisation
            long at = 50 + random.nextLong(Math.max(1, settings.stabilisationMillis() - 50));
            int who = random.nextInt(validators.size());
            schedule(at, () -> nodes.get(who).stream().filter(Node::honest).forEach(Node::restart));
        }
        schedule(settings.stabilisationMillis(), () -> honest().forEach(n -> n.committedAtStabilisation = n.committed.size()));
        while (!events.isEmpty() && events.peek().time() <= settings.endMillis()) {
            Event event = events.poll();
            now = event.time();
            event.action().run();
        }
        return this;
    }

    private void schedulePartitions() {
        long t = 0;
        while (true) {
            t += 200 + random.nextLong(800);
            if (t >= settings.stabilisationMillis()) {
                break;
            }
            long start = t;
            schedule(start, () -> {
                group = new int[validators.size()];
                for (int i = 0; i < group.length; i++) {
                    group[i] = random.nextInt(2);
                }
            });
            t += 100 + random.nextLong(600);
            schedule(Math.min(t, settings.stabilisationMillis()), () -> group = null);
        }
        schedule(settings.stabilisationMillis(), () -> group = null);
    }

    List<Node> honest() {
        return nodes.stream().flatMap(List::stream).filter(Node::honest).toList();
    }

    ValidatorSet validators() {
        return validators;
    }
}
