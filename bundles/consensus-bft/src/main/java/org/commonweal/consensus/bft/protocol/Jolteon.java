package org.commonweal.consensus.bft.protocol;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.commonweal.consensus.bft.protocol.Messages.Block;
import org.commonweal.consensus.bft.protocol.Messages.BlockRequest;
import org.commonweal.consensus.bft.protocol.Messages.BlockResponse;
import org.commonweal.consensus.bft.protocol.Messages.Message;
import org.commonweal.consensus.bft.protocol.Messages.Proposal;
import org.commonweal.consensus.bft.protocol.Messages.Timeout;
import org.commonweal.consensus.bft.protocol.Messages.Vote;

/**
 * One validator of Jolteon, the 2-chain HotStuff protocol with a pacemaker and timeout certificates:
 * R. Gelashvili, L. Kokoris-Kogias, A. Sonnino, A. Spiegelman, Z. Xiang, "Jolteon and Ditto:
 * Network-Adaptive Efficient Consensus with Asynchronous Fallback", Financial Cryptography 2022
 * (arXiv:2106.10362); the same protocol as DiemBFT v4 (The Diem Team, "DiemBFT v4: State Machine
 * Replication in the Diem Blockchain", 2021), whose safety rules are named here.
 * <ul>
 * <li>The leader of round r proposes a block extending the highest certified block it knows, carrying
 * that block's quorum certificate (QC), or, if it entered round r by a timeout certificate (TC) of round
 * r - 1, that TC.</li>
 * <li>A validator votes at most once per round, for a block of its current round whose parent is
 * certified in round r - 1, or (after a TC of round r - 1) whose parent is at least as high as every
 * certified round the TC's signers reported. Votes go to the leader of round r + 1, which forms the
 * QC.</li>
 * <li>Commit (the 2-chain rule): when a block B is certified and its parent P was certified in round
 * B.round - 1, P and its ancestors are final.</li>
 * <li>Pacemaker: a QC or TC of round r moves a validator to round r + 1; when its round timer expires it
 * broadcasts a timeout with its highest QC and stops voting in that round; a quorum of timeouts forms a
 * TC; f + 1 timeouts of a round make a validator time out too. Timers back off while rounds fail.</li>
 * </ul>
 * Single-threaded and deterministic: inputs are messages and timer events, outputs go through the
 * {@link Environment}. The safety state is persisted before any vote or timeout leaves.
 */
public final class Jolteon {

    /**
     * Committed blocks kept to answer peers catching up, in rounds behind the last commit, by default; a validator
     * further behind catches up through its peers' chains (the engine's state sync), then {@link #syncedTo}.
     */
    public static final long KEPT_ROUNDS = 10_000;

    private final int chainId;
    private final ValidatorSet validators;
    private final int me;
    private final Signatures signatures;
    private final Environment environment;
    private final long baseTimeoutMillis;
    private final Block genesis;
    private final Id genesisId;
    private long keptRounds = KEPT_ROUNDS;

    // Safety (persisted).
    private long highestVotedRound;
    private QuorumCert highQc;

    // Liveness.
    private long round;
    private TimeoutCert lastTc;
    private int failedRounds;
    private long proposedRound = -1;
    private long timedOutRound = -1;

    // Blocks: every verified block known, with its proposal (to answer requests); what is committed.
    private final Map<Id, Proposal> blocks = new HashMap<>();
    private Id committedId;
    private long committedRound;
    /** Proposals waiting for a missing ancestor, by the id of what they wait for. */
    private final Map<Id, List<Waiting>> waiting = new HashMap<>();

    private record Waiting(Proposal proposal, boolean live) {
    }
    /** As the next leader: votes by round, then block id, then voter. */
    private final Map<Long, Map<Id, Map<Integer, Signed>>> votes = new HashMap<>();
    private final Map<Long, Map<Integer, Timeout>> timeouts = new HashMap<>();
    private final ArrayDeque<Message> toSelf = new ArrayDeque<>();
    private boolean handling;

    /**
     * A validator at genesis, or restarted with its persisted {@code safety} and the last block it committed
     * ({@code lastCommitted}; both null at first start). {@code genesisPayload} makes the genesis block every
     * validator shares.
     */
    public Jolteon(int chainId, ValidatorSet validators, int me, Signatures signatures, Environment environment,
            long baseTimeoutMillis, byte[] genesisPayload, SafetyState safety, Block lastCommitted) {
        this.chainId = chainId;
        this.validators = validators;
        this.me = me;
        this.signatures = signatures;
        this.environment = environment;
        this.baseTimeoutMillis = baseTimeoutMillis;
        this.genesis = new Block(0, -1, new QuorumCert(0, new Id(new byte[32]), List.of()), null, genesisPayload);
        this.genesisId = genesis.id();
        blocks.put(genesisId, new Proposal(genesis, new byte[0]));
        committedId = genesisId;
        highQc = QuorumCert.genesis(genesisId);
        if (safety != null) {
            highestVotedRound = safety.highestVotedRound();
            highQc = safety.highQc();
        }
        if (lastCommitted != null && lastCommitted.round() > 0) {
            committedId = lastCommitted.id();
            committedRound = lastCommitted.round();
            blocks.put(committedId, new Proposal(lastCommitted, new byte[0]));
        }
    }

    /** Keeps committed blocks for {@code rounds} behind the last commit (tests make it small to need state sync). */
    public void keepRounds(long rounds) {
        if (rounds < 1) {
            throw new IllegalArgumentException("at least one round of committed blocks must be kept, not " + rounds);
        }
        this.keptRounds = rounds;
    }

    /**
     * The ledger caught up by other means than this protocol (state sync: blocks certified by f + 1 validators'
     * signatures) up to the ledger block that consensus block {@code committed} made: it becomes the last committed
     * block, and commits go on from it as blocks certified above it arrive. Ignored unless it is above the last
     * committed block.
     */
    public void syncedTo(Block committed) {
        run(() -> {
            if (committed.round() <= committedRound) {
                return;
            }
            Id id = committed.id();
            blocks.putIfAbsent(id, new Proposal(committed, new byte[0]));
            committedId = id;
            committedRound = committed.round();
            blocks.values().removeIf(p -> p.block().round() > 0 && p.block().round() < committedRound
                    && !p.block().id().equals(id));
            waiting.values().removeIf(list -> {
                list.removeIf(w -> w.proposal().block().round() <= committedRound);
                return list.isEmpty();
            });
            tryCommit(highQc);
        });
    }

    /** Enters the first round after the highest certificate (and proposes if this validator leads it). */
    public void start() {
        run(() -> advanceTo(Math.max(highQc.round(), 0) + 1, null));
    }

    public Id genesisId() {
        return genesisId;
    }

    public long round() {
        return round;
    }

    public long committedRound() {
        return committedRound;
    }

    public QuorumCert highQc() {
        return highQc;
    }

    /** A message from validator {@code from}. */
    public void onMessage(int from, Message message) {
        run(() -> handle(from, message));
    }

    /** The timer of {@code round} expired. */
    public void onTimer(long timerRound) {
        run(() -> localTimeout(timerRound));
    }

    /**
     * Handles the messages this validator sent itself that {@link #run} left for later (see
     * {@link #hasMessagesToSelf}); the caller's loop calls it between its other work.
     */
    public void resume() {
        run(() -> { });
    }

    /**
     * Whether messages to itself wait: a single validator certifies its own proposals at once, so without a
     * bound one call would run round after round and never return to its caller.
     */
    public boolean hasMessagesToSelf() {
        return !toSelf.isEmpty();
    }

    /** Messages to itself handled per call at most (a round takes a few; others' rounds never come close). */
    private static final int SELF_MESSAGES_PER_CALL = 64;

    private void run(Runnable input) {
        if (handling) {
            throw new IllegalStateException("Jolteon is single-threaded and not re-entrant");
        }
        handling = true;
        try {
            input.run();
            for (int handled = 0; !toSelf.isEmpty() && handled < SELF_MESSAGES_PER_CALL; handled++) {
                handle(me, toSelf.poll());
            }
        } finally {
            handling = false;
        }
    }

    private void handle(int from, Message message) {
        switch (message) {
            case Proposal p -> onProposal(from, p, true);
            case Vote v -> onVote(v);
            case Timeout t -> onTimeout(t);
            case BlockRequest r -> {
                Proposal known = blocks.get(r.blockId());
                if (known != null && from != me && known.block().round() > 0 && known.signature().length > 0) {
                    environment.send(from, new BlockResponse(known));
                }
            }
            case BlockResponse r -> onProposal(from, r.proposal(), false);
            case Messages.BatchMessage b -> {
                // the quorum store's, not the protocol's
            }
        }
    }

    // ---- proposals ----

    private boolean verified(Proposal p) {
        Block b = p.block();
        return b.round() > 0 && b.author() == validators.leader(b.round())
                && signatures.verify(b.author(), Messages.proposalBytes(chainId, b.id()), p.signature())
                && b.parent().round() < b.round()
                && b.parent().valid(chainId, validators, signatures, genesisId)
                && (b.timeout() == null || (b.timeout().round() == b.round() - 1
                        && b.timeout().valid(chainId, validators, signatures)));
    }

    /** {@code live}: a proposal for voting (else a block fetched to fill a gap). */
    private void onProposal(int from, Proposal p, boolean live) {
        Block b = p.block();
        Id id = b.id();
        if (blocks.containsKey(id) && !live) {
            return;
        }
        if (!verified(p)) {
            return; // forged, misattributed or badly certified: ignored (the sender is faulty)
        }
        processQc(b.parent());
        if (b.timeout() != null) {
            processTc(b.timeout());
        }
        Proposal parent = blocks.get(b.parent().blockId());
        if (parent == null) {
            waiting.computeIfAbsent(b.parent().blockId(), k -> new ArrayList<>()).add(new Waiting(p, live));
            request(from, b.parent().blockId());
            return;
        }
        if (parent.block().round() != b.parent().round() || !environment.validPayload(b, parent.block())) {
            return; // the certificate's round is not its block's, or the payload does not execute on the parent
        }
        boolean known = blocks.putIfAbsent(id, p) != null;
        if (!known) {
            List<Waiting> children = waiting.remove(id);
            if (children != null) { // now they can be stored (and voted for, if still current)
                children.forEach(child -> toSelf.add(child.live() ? child.proposal() : new BlockResponse(child.proposal())));
            }
            tryCommit(highQc);
        }
        if (live) {
            maybeVote(b, id);
        }
    }

    private void request(int from, Id blockId) {
        BlockRequest request = new BlockRequest(blockId);
        if (from != me) {
            environment.send(from, request);
        } else {
            environment.broadcast(request);
        }
    }

    private void maybeVote(Block b, Id id) {
        if (b.round() != round || !safeToVote(b)) {
            return;
        }
        highestVotedRound = b.round();
        environment.persist(new SafetyState(highestVotedRound, highQc));
        Vote vote = new Vote(b.round(), id, new Signed(me, 0, signatures.sign(Messages.voteBytes(chainId, b.round(), id))));
        int next = validators.leader(b.round() + 1);
        if (next == me) {
            toSelf.add(vote);
        } else {
            environment.send(next, vote);
        }
    }

    /** DiemBFT v4 safe_to_vote: one vote per round, on a parent certified in the previous round (or after a TC, high enough). */
    private boolean safeToVote(Block b) {
        if (b.round() <= Math.max(highestVotedRound, b.parent().round())) {
            return false;
        }
        if (b.round() == b.parent().round() + 1) {
            return true;
        }
        TimeoutCert tc = b.timeout();
        return tc != null && b.round() == tc.round() + 1 && b.parent().round() >= tc.highestQcRound();
    }

    // ---- votes (as the next leader) ----

    private void onVote(Vote v) {
        Signed s = v.vote();
        if (validators.leader(v.round() + 1) != me || v.round() < round - 1 || s.validator() < 0
                || s.validator() >= validators.size()
                || !signatures.verify(s.validator(), Messages.voteBytes(chainId, v.round(), v.blockId()), s.signature())) {
            return;
        }
        Map<Integer, Signed> forBlock = votes.computeIfAbsent(v.round(), r -> new HashMap<>())
                .computeIfAbsent(v.blockId(), id -> new LinkedHashMap<>());
        if (forBlock.putIfAbsent(s.validator(), s) != null || forBlock.size() != validators.quorum()) {
            return; // a repeat, or not exactly the quorum now (a QC is formed once)
        }
        processQc(new QuorumCert(v.round(), v.blockId(), new ArrayList<>(forBlock.values())));
    }

    // ---- certificates and the pacemaker ----

    private void processQc(QuorumCert qc) {
        if (qc.round() > highQc.round()) {
            highQc = qc;
        }
        tryCommit(qc);
        if (qc.round() + 1 > round) {
            failedRounds = 0;
            advanceTo(qc.round() + 1, null);
        }
    }

    private void processTc(TimeoutCert tc) {
        if (tc.round() + 1 > round) {
            failedRounds++;
            advanceTo(tc.round() + 1, tc);
        }
    }

    private void advanceTo(long next, TimeoutCert tc) {
        round = next;
        lastTc = tc;
        votes.keySet().removeIf(r -> r < round - 1);
        timeouts.keySet().removeIf(r -> r < round - 1);
        environment.setTimer(round, timeout());
        if (validators.leader(round) == me) {
            propose();
        }
    }

    private long timeout() {
        return (long) (baseTimeoutMillis * Math.pow(1.5, Math.min(failedRounds, 6))); // at most ~11x the base
    }

    private void propose() {
        if (proposedRound >= round) {
            return;
        }
        Proposal parent = blocks.get(highQc.blockId());
        if (parent == null) {
            request(me, highQc.blockId()); // a certificate for a block not seen yet: fetch it, propose on the timer
            return;
        }
        TimeoutCert tc = highQc.round() + 1 == round ? null : lastTc;
        if (tc == null && highQc.round() + 1 != round) {
            return; // entered this round neither by its predecessor's QC nor by a TC we hold
        }
        proposedRound = round;
        Block block = new Block(round, me, highQc, tc, environment.payload(parent.block()));
        Proposal proposal = new Proposal(block, signatures.sign(Messages.proposalBytes(chainId, block.id())));
        environment.broadcast(proposal);
        toSelf.add(proposal);
    }

    private void localTimeout(long timerRound) {
        if (timerRound != round) {
            return;
        }
        timeoutRound();
        environment.setTimer(round, timeout()); // keep re-sending until the round ends
    }

    private void timeoutRound() {
        highestVotedRound = Math.max(highestVotedRound, round); // no vote in a round once timed out
        environment.persist(new SafetyState(highestVotedRound, highQc));
        timedOutRound = round;
        Timeout timeout = new Timeout(round, highQc, lastTc,
                new Signed(me, highQc.round(), signatures.sign(Messages.timeoutBytes(chainId, round, highQc.round()))));
        environment.broadcast(timeout);
        toSelf.add(timeout);
    }

    private void onTimeout(Timeout t) {
        Signed s = t.signed();
        if (t.round() < round || s.validator() < 0 || s.validator() >= validators.size() || s.value() != t.highQc().round()
                || !signatures.verify(s.validator(), Messages.timeoutBytes(chainId, t.round(), s.value()), s.signature())
                || !t.highQc().valid(chainId, validators, signatures, genesisId)) {
            return;
        }
        processQc(t.highQc());
        if (t.lastTc() != null && t.lastTc().round() >= round - 1 && t.lastTc().valid(chainId, validators, signatures)) {
            processTc(t.lastTc()); // the round we may have missed ending
        }
        if (t.round() < round) {
            return; // the certificates moved us past it
        }
        Map<Integer, Timeout> forRound = timeouts.computeIfAbsent(t.round(), r -> new LinkedHashMap<>());
        if (forRound.putIfAbsent(s.validator(), t) != null) {
            return;
        }
        if (forRound.size() == validators.faults() + 1 && t.round() == round && timedOutRound < round) {
            timeoutRound(); // f + 1 timed out: at least one honest validator did, join it (Bracha)
        }
        if (forRound.size() == validators.quorum()) {
            List<Signed> signed = forRound.values().stream().map(Timeout::signed).toList();
            processTc(new TimeoutCert(t.round(), signed));
        }
    }

    // ---- commit ----

    /** The 2-chain rule: a certified block whose parent was certified in the round before makes the parent final. */
    private void tryCommit(QuorumCert qc) {
        Proposal certified = blocks.get(qc.blockId());
        if (certified == null) {
            return;
        }
        Block b = certified.block();
        Proposal parent = blocks.get(b.parent().blockId());
        if (parent == null || parent.block().round() + 1 != b.round() || parent.block().round() <= committedRound) {
            return;
        }
        List<Proposal> chain = new ArrayList<>();
        Id cursor = b.parent().blockId();
        while (!cursor.equals(committedId)) {
            Proposal p = blocks.get(cursor);
            if (p == null) {
                request(me, cursor); // an ancestor is missing: fetch it, commit when it arrives
                return;
            }
            if (p.block().round() <= committedRound) {
                throw new IllegalStateException("safety violation at validator " + me + ": block " + cursor + " of round "
                        + p.block().round() + " is final but does not extend the committed block " + committedId);
            }
            chain.add(p);
            cursor = p.block().parent().blockId();
        }
        for (int i = chain.size() - 1; i >= 0; i--) {
            environment.commit(chain.get(i).block(), qc);
        }
        committedId = chain.getFirst().block().id();
        committedRound = chain.getFirst().block().round();
        // Bounded memory; peers that fell further behind than this catch up by state sync.
        blocks.values().removeIf(p -> p.block().round() > 0 && p.block().round() < committedRound - keptRounds);
    }
}
