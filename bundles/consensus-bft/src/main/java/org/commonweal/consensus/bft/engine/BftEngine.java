package org.commonweal.consensus.bft.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
import org.commonweal.consensus.bft.protocol.Signatures;
import org.commonweal.consensus.bft.protocol.ValidatorSet;
import org.commonweal.crypto.Ed25519;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.BlockHeader;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The BFT engine: {@link Jolteon} ordering ledger blocks among the validators, on one thread of its own
 * (an event loop over messages and timers). Execute-then-vote: a consensus block's payload is a ledger
 * block on the ledger block of its parent, proposed by the leader from its mempool and validated (executed)
 * by every validator before it votes; a consensus block with no transactions carries no ledger block. A
 * block made final by the 2-chain rule is committed to the chain with a certificate holding this
 * validator's signature over the ledger block and, as proof, the consensus block and the quorum
 * certificate that finalised it. The safety state is written (forced) to {@code safetyFile} before any vote
 * or timeout leaves.
 */
public final class BftEngine implements ConsensusEngine {

    public static final String NAME = "bft";
    private static final Logger LOG = LoggerFactory.getLogger(BftEngine.class);

    /** What the engine needs to know of its validator. */
    public record Settings(ValidatorSet validators, int me, long baseTimeoutMillis, long idleProposalWaitMillis,
            int maxBlockTransactions) {
    }

    private final Settings settings;
    private final Signatures signatures;
    private final UnaryOperator<byte[]> sign;
    private final Transport transport;
    private final Path safetyFile;
    private final LongSupplier clock;
    private final BlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private Thread thread;
    private ScheduledExecutorService timers;
    private volatile boolean running;

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

    @Override
    public synchronized void start(EngineContext context) {
        if (thread != null) {
            throw new IllegalStateException("the BFT engine is running already");
        }
        running = true;
        inbox.clear();
        timers = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "bft-timers-" + settings.me()));
        Loop loop = new Loop(context);
        transport.register(settings.me(), (from, message) -> inbox.add(() -> loop.jolteon.onMessage(from, message)));
        thread = new Thread(loop, "bft-engine-" + settings.me());
        thread.start();
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
            inbox.add(() -> { });
            try {
                stopping.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            timers.shutdownNow();
        }
    }

    /** The event loop and Jolteon's environment. */
    private final class Loop implements Runnable, Environment {

        private final EngineContext context;
        final Jolteon jolteon;
        /** The ledger head after each known consensus block (its own ledger block, or its parent's). */
        private final Map<Id, BlockHeader> ledgerAfter = new HashMap<>();
        private final Map<Long, Long> timerGeneration = new HashMap<>();

        Loop(EngineContext context) {
            this.context = context;
            BlockHeader genesisHeader = genesisHeader(context);
            SafetyState safety = readSafety();
            Messages.Block lastCommitted = lastCommitted(context);
            this.jolteon = new Jolteon(context.chainId(), settings.validators(), settings.me(), signatures, this,
                    settings.baseTimeoutMillis(), genesisHeader.encode(), safety, lastCommitted);
            ledgerAfter.put(jolteon.genesisId(), genesisHeader);
            if (lastCommitted != null) {
                ledgerAfter.put(lastCommitted.id(), context.head());
            }
        }

        @Override
        public void run() {
            try {
                jolteon.start();
                while (running) {
                    inbox.take().run();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                LOG.error("the BFT engine of validator {} stopped: {}", settings.me(), e.toString(), e);
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
        public void commit(Messages.Block block, QuorumCert finalisedBy) {
            if (block.payload().length == 0) {
                return;
            }
            try {
                Block ledgerBlock = Block.decode(block.payload());
                BlockHeader header = ledgerBlock.header();
                if (header.height() > context.lastHeight()) {
                    return; // beyond this engine's slot: the next engine orders it
                }
                CommitCertificate certificate = new CommitCertificate(NAME, header.height(), header.hash(),
                        List.of(new CommitCertificate.Vote(settings.validators().key(settings.me()),
                                sign.apply(CommitCertificate.signingBytes(context.chainId(), header.height(), header.hash())))),
                        Codec.encodeCertified(block, finalisedBy));
                context.commit(ledgerBlock, certificate);
            } catch (Rejection e) {
                throw new IllegalStateException("a final block does not commit on validator " + settings.me() + ": "
                        + e.getMessage(), e);
            }
        }

        @Override
        public void setTimer(long round, long delayMillis) {
            long generation = timerGeneration.merge(round, 1L, Long::sum);
            timerGeneration.keySet().removeIf(r -> r < round - 2);
            timers.schedule(() -> inbox.add(() -> {
                Long current = timerGeneration.get(round);
                if (current != null && current == generation) {
                    jolteon.onTimer(round);
                }
            }), delayMillis, TimeUnit.MILLISECONDS);
        }

        @Override
        public byte[] payload(Messages.Block parent) {
            BlockHeader parentLedger = ledgerAfter.get(parent.id());
            if (parentLedger == null || parentLedger.height() >= context.lastHeight()) {
                return new byte[0];
            }
            try {
                context.awaitTransactions(settings.idleProposalWaitMillis()); // pace rounds while idle
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            List<Transaction> candidates = context.candidates(parentLedger, settings.maxBlockTransactions());
            if (candidates.isEmpty()) {
                return new byte[0];
            }
            Block block = context.propose(parentLedger, candidates, settings.validators().key(settings.me()), clock.getAsLong());
            return block.transactions().isEmpty() ? new byte[0] : block.encode();
        }

        @Override
        public boolean validPayload(Messages.Block block, Messages.Block parent) {
            BlockHeader parentLedger = ledgerAfter.get(parent.id());
            if (parentLedger == null) {
                return false;
            }
            if (block.payload().length == 0) {
                ledgerAfter.put(block.id(), parentLedger);
                return true;
            }
            try {
                Block ledgerBlock = Block.decode(block.payload());
                if (!java.util.Arrays.equals(ledgerBlock.header().previousHash(), parentLedger.hash())) {
                    return false;
                }
                context.validate(ledgerBlock);
                ledgerAfter.put(block.id(), ledgerBlock.header());
                return true;
            } catch (Rejection | RuntimeException e) {
                LOG.debug("validator {} rejects block of round {}: {}", settings.me(), block.round(), e.toString());
                return false;
            }
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
