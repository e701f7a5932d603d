package org.commonweal.consensus.bft.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

import org.commonweal.consensus.CommitCertificate;
import org.commonweal.consensus.ConsensusEngine;
import org.commonweal.consensus.EngineContext;
import org.commonweal.consensus.bft.protocol.Codec;
import org.commonweal.consensus.bft.protocol.Environment;
import org.commonweal.consensus.bft.protocol.Id;
import org.commonweal.consensus.bft.protocol.Jolteon;
import org.commonweal.consensus.bft.protocol.Messages;
import org.commonweal.consensus.bft.protocol.QuorumCert;
import org.commonweal.consensus.bft.protocol.SafetyState;
import org.commonweal.consensus.bft.protocol.Signed;
import org.commonweal.consensus.bft.protocol.Signatures;
import org.commonweal.consensus.bft.protocol.ValidatorSet;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.SignatureBatch;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.BlockHeader;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.node.api.BundleThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The BFT engine: {@link Jolteon} on one thread of its own (an event loop over messages and timers), with
 * a quorum store that separates spreading transactions from ordering them (as Narwhal and Aptos' Quorum
 * Store do): each validator batches the transactions of its own mempool and sends the batch to the others,
 * which check every signature, keep it and acknowledge it; f + 1 acknowledgements make a proof of
 * availability, and a leader's block orders proofs (a few hundred bytes each), not transactions, so no
 * leader's bandwidth bounds throughput. Order-then-execute: when a block is final (2-chain rule), every
 * validator takes its batches' transactions in order (fetching a batch it lacks from peers), builds the
 * ledger block deterministically (the leader as proposer, the leader's time) and commits it with a
 * certificate holding its own signature over the ledger block and, as proof, the consensus block and the
 * quorum certificate that finalised it. The safety state is written (forced) to {@code safetyFile} before
 * any vote or timeout leaves.
 */
public final class BftEngine implements ConsensusEngine {

    public static final String NAME = "bft";
    private static final Logger LOG = LoggerFactory.getLogger(BftEngine.class);

    /**
     * What the engine needs to know of its validator: the set and its index, the base round timeout, how long a
     * leader with nothing to order waits before proposing an empty block, and the quorum store's batches (at
     * most {@code maxBatchTransactions}, sent when full or {@code batchIntervalMillis} after the first waiting
     * transaction; at most {@code maxBlockBatches} ordered per block).
     */
    public record Settings(ValidatorSet validators, int me, long baseTimeoutMillis, long idleProposalWaitMillis,
            int maxBatchTransactions, long batchIntervalMillis, int maxBlockBatches) {
    }

    private final Settings settings;
    private final Signatures signatures;
    private final UnaryOperator<byte[]> sign;
    private final Transport transport;
    private final Path safetyFile;
    private final LongSupplier clock;
    /** Messages from peers, bounded per sender and served round-robin (see {@link FairInbox}). */
    private final FairInbox inbox = new FairInbox(INBOX_MESSAGES);
    /** Timer events and the stop signal: few, never dropped. */
    private final BlockingQueue<Runnable> control = new LinkedBlockingQueue<>();
    private final java.util.concurrent.atomic.AtomicLong droppedMessages = new java.util.concurrent.atomic.AtomicLong();
    /** Messages waiting per sender before that sender's excess is dropped. */
    static final int INBOX_MESSAGES = 16_384;
    private Thread thread;
    private ScheduledExecutorService timers;
    private volatile boolean running;
    private volatile long keptRounds = Jolteon.KEPT_ROUNDS;

    /**
     * {@code sign}: this validator's Ed25519 signature (its node key; {@link Settings#me()} is the key's index in
     * the validator set).
     */
    public BftEngine(Settings settings, UnaryOperator<byte[]> sign, Transport transport, Path safetyFile, LongSupplier clock) {
        this.settings = settings;
        this.sign = sign;
        this.transport = transport;
        this.safetyFile = safetyFile;
        this.clock = clock;
        ValidatorSet validators = settings.validators();
        this.signatures = new Signatures() {
            @Override
            public byte[] sign(byte[] message) {
                return sign.apply(message);
            }

            @Override
            public boolean verify(int validator, byte[] message, byte[] signature) {
                return validator >= 0 && validator < validators.size() && signature.length == Ed25519.SIGNATURE_LENGTH
                        && Ed25519.verify(validators.key(validator), message, signature);
            }
        };
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Keeps consensus blocks for {@code rounds} behind the last commit, to answer peers catching up (default
     * {@value Jolteon#KEPT_ROUNDS}); a peer further behind catches up by state sync. Takes effect at the next start.
     */
    public void keepRounds(long rounds) {
        if (rounds < 1) {
            throw new IllegalArgumentException("at least one round of committed blocks must be kept, not " + rounds);
        }
        this.keptRounds = rounds;
    }

    @Override
    public synchronized void start(EngineContext context) {
        if (thread != null) {
            throw new IllegalStateException("the BFT engine is running already");
        }
        running = true;
        inbox.clear();
        control.clear();
        timers = Executors.newSingleThreadScheduledExecutor(BundleThreads.factory("bft-timers-" + settings.me()));
        Loop loop = new Loop(context);
        transport.register(settings.me(), (from, message) -> {
            if (!inbox.offer(from, () -> loop.onMessage(from, message)) && droppedMessages.getAndIncrement() % 10_000 == 0) {
                LOG.warn("validator {}: {} messages from validator {} wait already; dropping its messages (dropped so far:"
                        + " {}); the protocol recovers lost ones through timeouts", settings.me(), INBOX_MESSAGES, from,
                        droppedMessages.get());
            }
        });
        thread = BundleThreads.start("bft-engine-" + settings.me(), loop);
    }

    @Override
    public void stop() {
        Thread stopping;
        synchronized (this) {
            stopping = thread;
            thread = null;
            running = false;
        }
        if (stopping != null) {
            transport.unregister(settings.me());
            control.add(() -> { });
            try {
                stopping.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            timers.shutdownNow();
        }
    }

    /** The event loop: Jolteon's environment and the quorum store. Everything here runs on the engine thread. */
    private final class Loop implements Runnable, Environment {

        private final EngineContext context;
        final Jolteon jolteon;
        private final SignatureBatch verifier = SignatureBatch.ofAvailableProcessors();
        private final Map<Long, Long> timerGeneration = new HashMap<>();
        // Quorum store.
        /** Batches held here: ours and those we acknowledged (most recent 10,000 once ordered). */
        private final Map<Id, Messages.Batch> batches = new LinkedHashMap<>();
        private final Map<Id, Map<Integer, Signed>> acks = new HashMap<>();
        /** Proofs of availability not yet ordered, in arrival order. */
        private final Map<Id, Messages.BatchProof> ready = new LinkedHashMap<>();
        /** Per sender, our transactions in batches not yet executed: where the next batch starts. */
        private final Map<PublicKey, InFlight> batched = new HashMap<>();
        /** Batches executed (the most recent 10,000): a proof of one is not ordered again. */
        private final Map<Id, Boolean> executedBatches = new LinkedHashMap<>();
        private long sequence;
        private long firstWaitingAt = -1;
        private long lastBatchCheck;
        /** Batches asked of peers, and when. */
        private final Map<Id, Long> requested = new HashMap<>();
        // Ordering.
        private final Map<Id, Codec.OrderedBatches> payloads = new LinkedHashMap<>();
        private final Map<Id, Id> parents = new LinkedHashMap<>();
        /** Final blocks waiting to be executed, in order, with the certificate that made each final. */
        private final ArrayDeque<Final> toExecute = new ArrayDeque<>();

        private record Final(Messages.Block block, QuorumCert qc) {
        }

        // State sync.
        /** Jolteon's last committed round, and when it last moved. */
        private long progressRound = -1;
        private long progressAt;
        private long syncAskedAt;
        /** Committed blocks offered by peers, by height, then block hash, then the offering validator. */
        private final java.util.TreeMap<Long, Map<ByteBuffer, Map<Integer, SyncOffer>>> offers = new java.util.TreeMap<>();

        /** A block a validator says it committed, the certificate it committed it with, and its own vote in it. */
        private record SyncOffer(Block block, CommitCertificate certificate, CommitCertificate.Vote vote) {
        }

        /** One sender's transactions in our batches not yet executed: how many, and the nonce after the highest. */
        private static final class InFlight {
            long nextNonce;
            int count;

            void add(long nonce) {
                nextNonce = Math.max(nextNonce, nonce + 1);
                count++;
            }
        }

        Loop(EngineContext context) {
            this.context = context;
            BlockHeader genesisHeader = genesisHeader(context);
            Messages.Block last = lastCommitted(context);
            this.jolteon = new Jolteon(context.chainId(), settings.validators(), settings.me(), signatures, this,
                    settings.baseTimeoutMillis(), genesisHeader.encode(), readSafety(), last);
            jolteon.keepRounds(keptRounds);
            payloads.put(jolteon.genesisId(), new Codec.OrderedBatches(genesisHeader.timeMillis(), List.of()));
            if (last != null) { // restarted: blocks from peers extend the last block this validator committed
                payloads.put(last.id(), Codec.decodeOrdered(last.payload()));
            }
            sequence = clock.getAsLong(); // batch ids stay unique across restarts
        }

        @Override
        public void run() {
            try {
                jolteon.start();
                while (running) {
                    for (Runnable timer = control.poll(); timer != null; timer = control.poll()) {
                        timer.run();
                    }
                    // Messages to itself waiting (a single validator's next round): look at the inbox, do not wait.
                    Runnable event = inbox.poll(jolteon.hasMessagesToSelf() ? 0
                            : Math.max(1, Math.min(5, settings.batchIntervalMillis())));
                    if (event != null) {
                        event.run();
                    }
                    if (jolteon.hasMessagesToSelf()) {
                        jolteon.resume();
                    }
                    maybeBatch();
                    execute();
                    maybeSync();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                LOG.error("the BFT engine of validator {} stopped: {}", settings.me(), e.toString(), e);
            } finally {
                verifier.close();
            }
        }

        void onMessage(int from, Messages.Message message) {
            switch (message) {
                case Messages.Batch b -> onBatch(from, b);
                case Messages.BatchAck a -> onAck(a);
                case Messages.BatchProof p -> onProof(p);
                case Messages.BatchRequest r -> {
                    Messages.Batch batch = batches.get(r.batchId());
                    if (batch != null) {
                        transport.send(settings.me(), from, batch);
                    }
                }
                case Messages.SyncRequest r -> onSyncRequest(from, r);
                case Messages.SyncResponse r -> onSyncResponse(from, r);
                default -> jolteon.onMessage(from, message);
            }
        }

        // ---- quorum store ----

        private void maybeBatch() {
            long checkAt = clock.getAsLong();
            if (checkAt - lastBatchCheck < Math.max(1, settings.batchIntervalMillis() / 4)
                    || context.head().height() >= context.lastHeight()) {
                return; // looking at the mempool costs: a few times per batch interval, not after every message
            }
            lastBatchCheck = checkAt;
            List<Transaction> fresh = context.candidates(context.head(), settings.maxBatchTransactions(), sender -> {
                InFlight inFlight = batched.get(sender);
                return inFlight == null ? 0 : inFlight.nextNonce;
            });
            long now = clock.getAsLong();
            if (fresh.isEmpty()) {
                firstWaitingAt = -1;
                return;
            }
            if (firstWaitingAt < 0) {
                firstWaitingAt = now;
            }
            if (fresh.size() < settings.maxBatchTransactions() && now - firstWaitingAt < settings.batchIntervalMillis()) {
                return;
            }
            List<byte[]> encoded = new ArrayList<>(fresh.size());
            for (Transaction tx : fresh) {
                encoded.add(TransactionCodec.encode(tx));
                batched.computeIfAbsent(tx.sender(), sender -> new InFlight()).add(tx.nonce());
            }
            Messages.Batch batch = new Messages.Batch(settings.me(), sequence++, encoded);
            Id id = batch.id();
            batches.put(id, batch);
            firstWaitingAt = -1;
            transport.broadcast(settings.me(), batch);
            onAck(new Messages.BatchAck(id, new Signed(settings.me(), 0,
                    sign.apply(Messages.batchAckBytes(context.chainId(), id)))));
        }

        private void onBatch(int from, Messages.Batch batch) {
            Id id = batch.id();
            // From its author, or, for a batch we asked for, from anyone (the id is the hash of its contents).
            if ((batch.author() != from && !requested.containsKey(id)) || batch.author() < 0
                    || batch.author() >= settings.validators().size()
                    || batch.transactions().size() > settings.maxBatchTransactions() * 2) {
                return;
            }
            if (batches.containsKey(id)) {
                return;
            }
            List<SignatureBatch.Item> items = new ArrayList<>(batch.transactions().size());
            try {
                for (byte[] bytes : batch.transactions()) {
                    Transaction tx = TransactionCodec.decode(bytes);
                    items.add(new SignatureBatch.Item(tx.sender(), TransactionCodec.signingBytes(tx.chainId(), tx.sender(),
                            tx.nonce(), tx.fee(), tx.payloadType(), tx.payload()), tx.signature()));
                }
            } catch (Rejection e) {
                LOG.warn("validator {} sent a batch with a malformed transaction ({}); not acknowledged", from, e.getMessage());
                return;
            }
            if (!verifier.invalid(items).isEmpty()) {
                LOG.warn("validator {} sent a batch with a forged signature; not acknowledged", from);
                return;
            }
            batches.put(id, batch);
            requested.remove(id);
            if (batch.author() != settings.me()) {
                transport.send(settings.me(), batch.author(), new Messages.BatchAck(id, new Signed(settings.me(), 0,
                        sign.apply(Messages.batchAckBytes(context.chainId(), id)))));
            }
        }

        private void onAck(Messages.BatchAck ack) {
            Messages.Batch batch = batches.get(ack.batchId());
            Signed s = ack.signed();
            if (batch == null || batch.author() != settings.me() || ready.containsKey(ack.batchId())
                    || executedBatches.containsKey(ack.batchId())
                    || !signatures.verify(s.validator(), Messages.batchAckBytes(context.chainId(), ack.batchId()), s.signature())) {
                return;
            }
            Map<Integer, Signed> forBatch = acks.computeIfAbsent(ack.batchId(), k -> new LinkedHashMap<>());
            forBatch.putIfAbsent(s.validator(), s);
            if (forBatch.size() == settings.validators().faults() + 1) {
                Messages.BatchProof proof = new Messages.BatchProof(ack.batchId(), settings.me(), batch.transactions().size(),
                        List.copyOf(forBatch.values()));
                acks.remove(ack.batchId());
                ready.put(ack.batchId(), proof);
                transport.broadcast(settings.me(), proof);
            }
        }

        private void onProof(Messages.BatchProof proof) {
            if (!ready.containsKey(proof.batchId()) && !executedBatches.containsKey(proof.batchId())
                    && proof.valid(context.chainId(), settings.validators(), signatures)) {
                ready.put(proof.batchId(), proof);
            }
        }

        // ---- ordering (Jolteon's environment) ----

        /** Batches ordered by {@code block} and its ancestors not yet executed. */
        private Set<Id> orderedAbove(Id block) {
            Set<Id> ordered = new HashSet<>();
            for (Id cursor = block; cursor != null; cursor = parents.get(cursor)) {
                Codec.OrderedBatches payload = payloads.get(cursor);
                if (payload == null) {
                    break;
                }
                payload.proofs().forEach(p -> ordered.add(p.batchId()));
            }
            return ordered;
        }

        @Override
        public byte[] payload(Messages.Block parent) {
            Set<Id> above = orderedAbove(parent.id());
            List<Messages.BatchProof> chosen = new ArrayList<>();
            for (Messages.BatchProof proof : ready.values()) {
                if (!above.contains(proof.batchId()) && chosen.size() < settings.maxBlockBatches()) {
                    chosen.add(proof);
                }
            }
            if (chosen.isEmpty() && settings.idleProposalWaitMillis() > 0) {
                try {
                    Thread.sleep(settings.idleProposalWaitMillis()); // pace empty rounds while idle
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Codec.OrderedBatches parentPayload = payloads.get(parent.id());
            long time = Math.max(clock.getAsLong(), parentPayload == null ? 0 : parentPayload.timeMillis());
            return Codec.encodeOrdered(new Codec.OrderedBatches(time, chosen));
        }

        @Override
        public boolean validPayload(Messages.Block block, Messages.Block parent) {
            Codec.OrderedBatches parentPayload = payloads.get(parent.id());
            if (parentPayload == null) {
                return false;
            }
            try {
                Codec.OrderedBatches ordered = Codec.decodeOrdered(block.payload());
                if (ordered.timeMillis() < parentPayload.timeMillis() || ordered.timeMillis() > clock.getAsLong() + 10_000
                        || ordered.proofs().size() > settings.maxBlockBatches()) {
                    return false;
                }
                Set<Id> above = orderedAbove(parent.id());
                for (Messages.BatchProof proof : ordered.proofs()) {
                    if (!above.add(proof.batchId()) || executedBatches.containsKey(proof.batchId())
                            || !proof.valid(context.chainId(), settings.validators(), signatures)) {
                        return false;
                    }
                }
                payloads.put(block.id(), ordered);
                parents.put(block.id(), parent.id());
                return true;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }

        @Override
        public void commit(Messages.Block block, QuorumCert qc) {
            toExecute.add(new Final(block, qc));
        }

        /** Executes final blocks in order, as long as their batches are here (fetching those that are not). */
        private void execute() {
            while (!toExecute.isEmpty()) {
                Messages.Block block = toExecute.peek().block();
                Codec.OrderedBatches ordered = payloads.containsKey(block.id()) ? payloads.get(block.id())
                        : Codec.decodeOrdered(block.payload());
                boolean complete = true;
                long now = clock.getAsLong();
                for (Messages.BatchProof proof : ordered.proofs()) {
                    if (!batches.containsKey(proof.batchId())) {
                        complete = false;
                        Long asked = requested.get(proof.batchId());
                        if (asked == null || now - asked > 500) { // ask again only if no answer came for a while
                            requested.put(proof.batchId(), now);
                            transport.broadcast(settings.me(), new Messages.BatchRequest(proof.batchId()));
                        }
                    }
                }
                if (!complete) {
                    return; // retried after the next event; the requests are answered by holders
                }
                QuorumCert qc = toExecute.poll().qc();
                List<Transaction> txs = new ArrayList<>();
                for (Messages.BatchProof proof : ordered.proofs()) {
                    Messages.Batch batch = batches.get(proof.batchId());
                    for (byte[] bytes : batch.transactions()) {
                        try {
                            Transaction tx = TransactionCodec.decode(bytes);
                            txs.add(tx);
                            if (batch.author() == settings.me()) {
                                InFlight inFlight = batched.get(tx.sender());
                                if (inFlight != null && --inFlight.count == 0) {
                                    // none left in flight: what did not apply is offered again from the account's nonce
                                    batched.remove(tx.sender());
                                }
                            }
                        } catch (Rejection e) {
                            // acknowledged batches decode; a malformed one is skipped whole by the ledger anyway
                        }
                    }
                    executedBatches.put(proof.batchId(), true);
                    ready.remove(proof.batchId());
                }
                forget(block);
                if (txs.isEmpty() || context.head().height() >= context.lastHeight()) {
                    continue;
                }
                BlockHeader head = context.head();
                Block ledgerBlock = context.propose(head, txs, settings.validators().key(block.author()), ordered.timeMillis());
                if (ledgerBlock.transactions().isEmpty()) {
                    continue; // every transaction was ordered twice or no longer applies
                }
                BlockHeader header = ledgerBlock.header();
                CommitCertificate certificate = new CommitCertificate(NAME, header.height(), header.hash(),
                        List.of(new CommitCertificate.Vote(settings.validators().key(settings.me()),
                                sign.apply(CommitCertificate.signingBytes(context.chainId(), header.height(), header.hash())))),
                        Codec.encodeCertified(block, qc));
                try {
                    context.commit(ledgerBlock, certificate);
                } catch (Rejection e) {
                    throw new IllegalStateException("a final block does not commit on validator " + settings.me() + ": "
                            + e.getMessage(), e);
                }
            }
        }

        /**
         * State sync, for a validator further behind than the consensus blocks its peers keep: when Jolteon has
         * committed nothing for a while although certificates of later rounds arrive, ask every peer for the
         * committed ledger blocks after the head.
         */
        private void maybeSync() {
            long now = clock.getAsLong();
            if (jolteon.committedRound() != progressRound || jolteon.highQc().round() <= jolteon.committedRound() + 2) {
                progressRound = jolteon.committedRound();
                progressAt = now; // committing, or not behind
                return;
            }
            long wait = Math.max(1_000, 5 * settings.baseTimeoutMillis());
            if (now - progressAt >= wait && now - syncAskedAt >= wait && context.head().height() < context.lastHeight()) {
                syncAskedAt = now;
                LOG.info("validator {} commits nothing at round {} while round {} is certified: asking peers for the"
                        + " blocks after height {}", settings.me(), jolteon.committedRound(), jolteon.highQc().round(),
                        context.head().height());
                transport.broadcast(settings.me(), new Messages.SyncRequest(context.head().height() + 1));
            }
        }

        /**
         * Up to {@value Codec#MAX_SYNC_BLOCKS} committed blocks (about {@value Codec#SYNC_RESPONSE_BYTES} bytes) from the
         * requested height, each with its certificate holding this validator's signature of the block (added if the
         * certificate lacks it, as one from another engine does): this validator vouches that it committed each.
         */
        private void onSyncRequest(int from, Messages.SyncRequest request) {
            List<byte[]> blocks = new ArrayList<>();
            List<byte[]> certificates = new ArrayList<>();
            PublicKey myKey = settings.validators().key(settings.me());
            long bytes = 0;
            for (long h = Math.max(1, request.fromHeight()); h <= context.head().height() && blocks.size() < Codec.MAX_SYNC_BLOCKS
                    && bytes < Codec.SYNC_RESPONSE_BYTES; h++) {
                EngineContext.CommittedBlock committed = context.committed(h).orElse(null);
                if (committed == null || committed.certificate().isEmpty()) {
                    break;
                }
                CommitCertificate certificate = committed.certificate().get();
                BlockHeader header = committed.block().header();
                if (certificate.votes().stream().noneMatch(v -> v.signer().equals(myKey))) {
                    List<CommitCertificate.Vote> votes = new ArrayList<>(certificate.votes());
                    votes.add(new CommitCertificate.Vote(myKey,
                            sign.apply(CommitCertificate.signingBytes(context.chainId(), h, header.hash()))));
                    certificate = new CommitCertificate(certificate.engine(), h, header.hash(), votes, certificate.proof());
                }
                blocks.add(committed.block().encode());
                certificates.add(certificate.encode());
                bytes += blocks.getLast().length + certificates.getLast().length;
            }
            if (!blocks.isEmpty()) {
                transport.send(settings.me(), from, new Messages.SyncResponse(request.fromHeight(), blocks, certificates));
            }
        }

        /**
         * Keeps each offered block that its sender signed (a faulty sender can offer anything, so nothing is applied
         * on one word), then commits, height after height, every block that f + 1 validators vouch for: at least
         * one of them is honest, and honest validators commit the same block at every height.
         */
        private void onSyncResponse(int from, Messages.SyncResponse response) {
            PublicKey fromKey = settings.validators().key(from);
            long head = context.head().height();
            List<byte[]> blocks = response.blocks();
            List<byte[]> certificates = response.certificates();
            for (int i = 0; i < blocks.size(); i++) {
                long height = response.fromHeight() + i;
                if (height <= head || height > head + 2L * Codec.MAX_SYNC_BLOCKS) {
                    continue;
                }
                try {
                    Block block = Block.decode(blocks.get(i));
                    CommitCertificate certificate = CommitCertificate.decode(certificates.get(i));
                    byte[] hash = block.header().hash();
                    byte[] signed = CommitCertificate.signingBytes(context.chainId(), height, hash);
                    CommitCertificate.Vote vote = certificate.votes().stream()
                            .filter(v -> v.signer().equals(fromKey) && Ed25519.verify(fromKey, signed, v.signature()))
                            .findFirst().orElse(null);
                    if (block.header().height() != height || certificate.height() != height
                            || !java.util.Arrays.equals(certificate.blockHash(), hash) || vote == null) {
                        LOG.warn("validator {} offered block {} without its own valid signature of it; ignored", from, height);
                        return;
                    }
                    offers.computeIfAbsent(height, h -> new HashMap<>())
                            .computeIfAbsent(ByteBuffer.wrap(hash), h -> new HashMap<>())
                            .put(from, new SyncOffer(block, certificate, vote));
                } catch (Rejection e) {
                    LOG.warn("validator {} offered a malformed block {} ({}); ignored", from, height, e.getMessage());
                    return;
                }
            }
            applyOffers();
        }

        private void applyOffers() {
            int applied = 0;
            Messages.Block lastConsensus = null;
            while (true) {
                long next = context.head().height() + 1;
                offers.headMap(next).clear();
                Map<ByteBuffer, Map<Integer, SyncOffer>> atNext = offers.get(next);
                Map<Integer, SyncOffer> agreed = atNext == null ? null : atNext.values().stream()
                        .filter(byValidator -> byValidator.size() >= settings.validators().faults() + 1).findFirst()
                        .orElse(null);
                if (agreed == null || next > context.lastHeight()) {
                    break;
                }
                SyncOffer any = agreed.values().iterator().next();
                byte[] proof = agreed.values().stream().map(SyncOffer::certificate).filter(c -> c.engine().equals(NAME))
                        .map(CommitCertificate::proof).findFirst().orElse(new byte[0]);
                CommitCertificate certificate = new CommitCertificate(any.certificate().engine(), next,
                        any.block().header().hash(), agreed.values().stream().map(SyncOffer::vote).toList(), proof);
                try {
                    context.commit(any.block(), certificate);
                } catch (Rejection e) {
                    LOG.error("validator {}: block {}, vouched for by validators {}, does not commit here ({}); state sync"
                            + " stops until new offers come", settings.me(), next, agreed.keySet(), e.getMessage());
                    offers.remove(next);
                    break;
                }
                applied++;
                if (proof.length > 0) {
                    lastConsensus = Codec.decodeCertified(proof).block();
                }
            }
            if (applied == 0) {
                return;
            }
            LOG.info("validator {} caught up by state sync: {} blocks, to height {}", settings.me(), applied,
                    context.head().height());
            if (lastConsensus != null) {
                long round = lastConsensus.round();
                payloads.put(lastConsensus.id(), Codec.decodeOrdered(lastConsensus.payload()));
                toExecute.removeIf(f -> f.block().round() <= round);
                jolteon.syncedTo(lastConsensus);
            }
            // More may follow: ask again at once (a peer that has nothing after the head does not answer).
            syncAskedAt = clock.getAsLong();
            transport.broadcast(settings.me(), new Messages.SyncRequest(context.head().height() + 1));
        }

        /**
         * Drops what is no longer needed once {@code block} is executed: its ancestors' payloads (its own stays, a
         * parent for the next), the oldest entries beyond 10,000 (forks never ordered), and batches beyond the
         * 10,000 most recent (kept for peers catching up).
         */
        private void forget(Messages.Block block) {
            for (Id cursor = parents.get(block.id()); cursor != null; ) {
                Id next = parents.remove(cursor);
                payloads.remove(cursor);
                cursor = next;
            }
            trim(payloads);
            trim(parents);
            trim(batches);
            trim(executedBatches);
        }

        private static <K, V> void trim(Map<K, V> map) {
            var it = map.keySet().iterator();
            while (map.size() > 10_000 && it.hasNext()) {
                it.next();
                it.remove();
            }
        }

        @Override
        public void send(int to, Messages.Message message) {
            transport.send(settings.me(), to, message);
        }

        @Override
        public void broadcast(Messages.Message message) {
            transport.broadcast(settings.me(), message);
        }

        @Override
        public void persist(SafetyState state) {
            writeSafety(state);
        }

        @Override
        public void setTimer(long round, long delayMillis) {
            long generation = timerGeneration.merge(round, 1L, Long::sum);
            timerGeneration.keySet().removeIf(r -> r < round - 2);
            timers.schedule(() -> control.add(() -> {
                Long current = timerGeneration.get(round);
                if (current != null && current == generation) {
                    jolteon.onTimer(round);
                }
            }), delayMillis, TimeUnit.MILLISECONDS);
        }
    }

    /** The ledger header the BFT slot started from: the same on every validator (the block before the slot). */
    private static BlockHeader genesisHeader(EngineContext context) {
        long first = context.head().height();
        for (long h = context.head().height(); h >= 1; h--) {
            var committed = context.committed(h).orElseThrow();
            if (committed.certificate().isEmpty() || !committed.certificate().get().engine().equals(NAME)) {
                break;
            }
            first = h - 1;
        }
        return context.committed(first).orElseThrow().block().header();
    }

    private static Messages.Block lastCommitted(EngineContext context) {
        var head = context.committed(context.head().height()).orElseThrow();
        if (head.certificate().isPresent() && head.certificate().get().engine().equals(NAME)) {
            return Codec.decodeCertified(head.certificate().get().proof()).block();
        }
        return null;
    }

    private SafetyState readSafety() {
        try {
            return Files.exists(safetyFile) ? Codec.decodeSafety(Files.readAllBytes(safetyFile)) : null;
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("the BFT safety state " + safetyFile + " is unreadable (" + e.getMessage()
                    + "); a validator that lost it could vote twice: restore it from a backup, or remove it only if this"
                    + " validator never voted", e);
        }
    }

    private void writeSafety(SafetyState state) {
        Path temporary = safetyFile.resolveSibling(safetyFile.getFileName() + ".tmp");
        try {
            Files.createDirectories(safetyFile.getParent());
            try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                out.write(ByteBuffer.wrap(Codec.encodeSafety(state)));
                out.force(true);
            }
            Files.move(temporary, safetyFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot persist the BFT safety state to " + safetyFile + ": no vote leaves"
                    + " until it can", e);
        }
    }
}
