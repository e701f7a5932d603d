package org.commonweal.consensus.solo;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

import org.commonweal.consensus.CommitCertificate;
import org.commonweal.consensus.ConsensusEngine;
import org.commonweal.consensus.EngineContext;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.BlockHeader;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.commonweal.node.api.NodeIdentity;
import org.commonweal.node.api.BundleThreads;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The solo engine: one node is the only sequencer. On it, one thread waits for transactions, proposes a
 * block of everything that applies (up to the chain's limit), signs a one-vote commit certificate with
 * the node key and commits. No block is made without transactions; under load blocks grow by
 * themselves, because what arrives while one block commits goes into the next.
 *
 * <p>Other nodes of the chain <em>follow</em>: configured with the sequencer's key and its HTTP address, they read
 * each block and its certificate from the sequencer's chain API, check that the sequencer signed it, and commit it
 * (the chain executes it and checks it against its header). So a network can run solo first and hand over to
 * BFT at an agreed height: every validator has the same chain when the BFT slot begins.
 */
@Component(service = ConsensusEngine.class, configurationPid = SoloEngine.PID)
public final class SoloEngine implements ConsensusEngine {

    public static final String PID = "org.commonweal.consensus.solo";

    /** Who sequences: empty, this node; else the sequencer's node key, and where this node reads its blocks. */
    public @interface Config {
        /** The sequencer's node key (64 hex digits); empty: this node sequences. */
        String sequencer() default "";

        /** The sequencer's HTTP address (e.g. http://10.0.0.1:8080), which a node that does not sequence follows. */
        String follow() default "";
    }

    public static final String NAME = "solo";
    private static final Logger LOG = LoggerFactory.getLogger(SoloEngine.class);
    private static final long IDLE_WAIT_MILLIS = 250;

    private final PublicKey sequencer;
    /** Null on the sequencer; else the sequencer's chain API this node follows (null too if none is configured). */
    private final Follower follower;
    private final UnaryOperator<byte[]> sign;
    private final LongSupplier clock;
    private final int maxBlockTransactions;
    private Thread thread;
    private volatile boolean running;

    @Activate
    public SoloEngine(@Reference(name = "identity") NodeIdentity identity, Config config) {
        PublicKey me = PublicKey.of(identity.publicKey());
        PublicKey configured;
        try {
            configured = config.sequencer().isBlank() ? me : PublicKey.fromHex(config.sequencer().trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PID + " sequencer: " + e.getMessage() + "; give the sequencer's node key,"
                    + " or leave it empty on the sequencer itself", e);
        }
        this.sequencer = configured;
        this.follower = configured.equals(me) ? null : new Follower(config.follow().trim());
        this.sign = identity::sign;
        this.clock = System::currentTimeMillis;
        this.maxBlockTransactions = Integer.MAX_VALUE;
    }

    /** An engine signing as {@code sequencer} with {@code sign}; outside OSGi (benchmarks, tests). */
    public SoloEngine(PublicKey sequencer, UnaryOperator<byte[]> sign, LongSupplier clock, int maxBlockTransactions) {
        this.sequencer = sequencer;
        this.follower = null;
        this.sign = sign;
        this.clock = clock;
        this.maxBlockTransactions = maxBlockTransactions;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public synchronized void start(EngineContext context) {
        if (thread != null) {
            throw new IllegalStateException("the solo engine is running already");
        }
        running = true;
        thread = BundleThreads.start(follower == null ? "solo-engine" : "solo-follower", () -> {
            if (follower == null) {
                run(context);
            } else {
                follower.run(context);
            }
        });
    }

    private void run(EngineContext context) {
        try {
            while (running && context.head().height() < context.lastHeight()) {
                if (!context.awaitTransactions(IDLE_WAIT_MILLIS)) {
                    continue;
                }
                BlockHeader head = context.head();
                List<Transaction> candidates = context.candidates(head, maxBlockTransactions);
                Block block = context.propose(head, candidates, sequencer, clock.getAsLong());
                if (block.transactions().isEmpty()) {
                    Thread.sleep(IDLE_WAIT_MILLIS / 10); // candidates that no longer apply: the mempool prunes them
                    continue;
                }
                long height = block.header().height();
                context.commit(block, CommitCertificate.signedBy(NAME, context.chainId(), height, block.header().hash(),
                        sequencer, sign));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Rejection | RuntimeException e) {
            // A block the sequencer made itself did not commit: storage failed or the code is wrong. Stop
            // rather than fork; the chain's health check shows the engine is no longer committing.
            LOG.error("the solo engine stopped at height {}: {}", context.head().height(), e.getMessage(), e);
        } finally {
            running = false;
        }
    }

    /** A node that does not sequence: it commits the sequencer's blocks, read from its chain API, in order. */
    private final class Follower {

        private final String base;
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

        Follower(String base) {
            this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        }

        void run(EngineContext context) {
            if (base.isEmpty()) {
                LOG.warn("the solo sequencer is {}, not this node, and no address to follow it is configured ({} follow):"
                        + " this node commits nothing while solo's slot lasts", sequencer, PID);
                return;
            }
            LOG.info("following the solo sequencer {} at {}", sequencer, base);
            String lastProblem = null;
            while (running && context.head().height() < context.lastHeight()) {
                long next = context.head().height() + 1;
                String problem;
                try {
                    problem = commitNext(context, next);
                } catch (IOException e) {
                    problem = "the sequencer at " + base + " does not answer (" + e + ")";
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                if (problem != null) {
                    if (!problem.equals(lastProblem)) {
                        LOG.warn("following {}: {}; trying again every {} ms", base, problem, IDLE_WAIT_MILLIS);
                    }
                    lastProblem = problem;
                    try {
                        Thread.sleep(IDLE_WAIT_MILLIS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                } else {
                    lastProblem = null;
                }
            }
        }

        /** Commits block {@code next} from the sequencer; null if done, else why not (it is not there yet, ...). */
        private String commitNext(EngineContext context, long next) throws IOException, InterruptedException {
            HttpResponse<byte[]> block = get("/api/chain/blocks/" + next);
            if (block.statusCode() == 404) {
                return "no block " + next + " yet";
            }
            HttpResponse<byte[]> certificate = get("/api/chain/certificates/" + next);
            if (block.statusCode() != 200 || certificate.statusCode() != 200) {
                return "block " + next + " answered HTTP " + block.statusCode() + ", its certificate " + certificate.statusCode();
            }
            try {
                Block decoded = Block.decode(block.body());
                CommitCertificate signed = CommitCertificate.decode(certificate.body());
                byte[] hash = decoded.header().hash();
                boolean bySequencer = signed.votes().stream().anyMatch(v -> v.signer().equals(sequencer));
                if (decoded.header().height() != next || signed.height() != next || !Arrays.equals(signed.blockHash(), hash)
                        || !bySequencer || !signed.signaturesValid(context.chainId())) {
                    return "block " + next + " from " + base + " is not signed by the sequencer " + sequencer
                            + " (a wrong address, or another chain)";
                }
                context.commit(decoded, signed);
                return null;
            } catch (Rejection e) {
                return "block " + next + " from " + base + " does not commit here (" + e.getMessage() + ")";
            }
        }

        private HttpResponse<byte[]> get(String path) throws IOException, InterruptedException {
            return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Accept", "application/octet-stream")
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
        }
    }

    @Override
    @Deactivate
    public void stop() {
        Thread stopping;
        synchronized (this) {
            stopping = thread;
            thread = null;
            running = false;
        }
        if (stopping != null) {
            // Not interrupted: an interrupt inside the block log's file operations would close its channels.
            // The thread notices within one idle wait.
            try {
                stopping.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
