package org.commonweal.benefit.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealCipher;
import org.commonweal.chain.Chain;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.StateView;
import org.commonweal.node.api.NodeIdentity;
import org.commonweal.node.api.BundleThreads;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import jakarta.servlet.Servlet;

/**
 * This node as a server of proof of benefit, while it runs ({@link ServingComponent}): issues receipts
 * to the OpenAI endpoint (a {@code ReceiptIssuer} service, when the inference API is there), takes them back
 * countersigned at {@value #RECEIPTS_PATH}, claims them in batches signed with the node key (at
 * {@code claim.receipts} pending, or when the oldest has waited {@code claim.delay.ms}), and after every block reveals
 * each of its claimed receipts that was sampled, sealed to the assigned auditor. Served requests are kept in
 * {@code <data>/benefit/served} ({@link ServedRequests}), so all of this survives a restart.
 */
final class ServingNode implements AutoCloseable {

    /** Where clients post countersigned receipts. */
    static final String RECEIPTS_PATH = "/api/benefit/receipts";
    private static final Logger LOG = LoggerFactory.getLogger(ServingNode.class);
    private static final String ISSUER = "org.commonweal.inference.receipts.ReceiptIssuer";

    private final Chain chain;
    private final NodeIdentity identity;
    private final BenefitParameters parameters;
    private final PublicKey node;
    private final ServedRequests store;
    private final ReceiptDesk desk;
    private final int claimReceipts;
    private final long claimDelayMillis;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();
    private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(BundleThreads.factory("benefit-serving"));
    private final AtomicBoolean pendingWork = new AtomicBoolean();
    private final AutoCloseable subscription;
    private final SecureRandom random = new SecureRandom();
    /** Receipts whose reveal this node committed (the audit's phase says so too once the block is in). */
    private final Set<String> revealed = new HashSet<>();
    /** No claim before this time (ms) after a refused one: the node may not be registered or staked yet. */
    private long claimBackoffUntil;

    ServingNode(BundleContext context, ServingComponent.Config config, Chain chain, NodeIdentity identity,
            BenefitParameters parameters) throws IOException {
        if (config.claim_receipts() < 1 || config.claim_receipts() > BenefitPayloads.MAX_RECEIPTS_PER_CLAIM) {
            throw new IllegalArgumentException("claim.receipts in org.commonweal.benefit.serving is 1.."
                    + BenefitPayloads.MAX_RECEIPTS_PER_CLAIM + " (receipts in one claim), not " + config.claim_receipts());
        }
        this.chain = chain;
        this.identity = identity;
        this.parameters = parameters;
        this.node = PublicKey.of(identity.publicKey());
        this.claimReceipts = config.claim_receipts();
        this.claimDelayMillis = Math.max(0, config.claim_delay_ms());
        String data = context.getProperty("commonweal.data.dir");
        this.store = new ServedRequests(Path.of(data == null ? "data" : data, "benefit", "served"), config.requests_max());
        this.desk = new ReceiptDesk(chain.chainId(), node, identity::sign, store);

        Hashtable<String, Object> servlet = new Hashtable<>();
        servlet.put("osgi.http.whiteboard.servlet.pattern", RECEIPTS_PATH);
        servlet.put("osgi.http.whiteboard.servlet.name", "benefit-receipts");
        registrations.add(context.registerService(Servlet.class, new ReceiptsServlet(desk, chain), servlet));
        try {
            registrations.add(context.registerService(ISSUER, new EndpointIssuer(desk, chain::state), null));
        } catch (LinkageError e) {
            LOG.info("the inference API is not wired to the benefit bundle: no receipts from the OpenAI endpoint ({})",
                    e.toString());
        }
        this.subscription = chain.subscribe(block -> schedule());
        worker.scheduleWithFixedDelay(this::schedule, 1, Math.max(100, Math.min(1_000, claimDelayMillis)),
                TimeUnit.MILLISECONDS);
        LOG.info("serving proof of benefit: {} served requests kept in {}", store.size(), store.folder());
    }

    @Override
    public void close() throws Exception {
        subscription.close();
        for (ServiceRegistration<?> r : registrations) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                // gone with the bundle
            }
        }
        worker.shutdownNow();
        worker.awaitTermination(10, TimeUnit.SECONDS);
        store.close();
    }

    /** Coalesces blocks and ticks: at most one pass waits behind the running one. */
    private void schedule() {
        if (pendingWork.compareAndSet(false, true)) {
            worker.execute(() -> {
                pendingWork.set(false);
                try {
                    claim();
                    reveal();
                } catch (IOException | RuntimeException e) {
                    LOG.warn("the serving node's pass failed; it runs again after the next block", e);
                }
            });
        }
    }

    /** Claims the pending receipts when enough are pending or the oldest has waited long enough. */
    private void claim() throws IOException {
        long now = System.currentTimeMillis();
        if (now < claimBackoffUntil) {
            return;
        }
        StateView state = chain.state();
        long today = chain.head().timeMillis() / 86_400_000L;
        List<Receipt> batch = new ArrayList<>();
        long oldest = Long.MAX_VALUE;
        for (ServedRequests.Entry entry : store.pending()) {
            Receipt receipt = entry.receipt();
            Optional<byte[]> claimedAt = state.entry(BenefitState.CLAIMED, java.nio.ByteBuffer.allocate(40)
                    .putLong(receipt.day()).put(receipt.id()).array());
            if (claimedAt.isPresent()) { // claimed before a restart lost the marker
                store.claimed(List.of(receipt), java.nio.ByteBuffer.wrap(claimedAt.get()).getLong());
            } else if (receipt.day() < today - 1) {
                LOG.warn("receipt {} was served on day {} and can no longer be claimed (today is {}): dropped", entry.id(),
                        receipt.day(), today);
                store.dropped(entry.id());
            } else if (batch.size() < BenefitPayloads.MAX_RECEIPTS_PER_CLAIM) {
                batch.add(receipt);
                oldest = Math.min(oldest, entry.since());
            }
        }
        if (batch.isEmpty() || (batch.size() < claimReceipts && now - oldest < claimDelayMillis)) {
            return;
        }
        NodeTransactions.Outcome outcome = NodeTransactions.submit(chain, identity, BenefitPayloads.CLAIM,
                new BenefitPayloads.Claim(batch).encode(), "claim of " + batch.size() + " receipts");
        if (outcome.committed()) {
            store.claimed(batch, outcome.height());
            LOG.info("claimed {} receipts in block {}", batch.size(), outcome.height());
        } else {
            claimBackoffUntil = now + Math.max(claimDelayMillis, 10_000);
        }
    }

    /** Reveals every claimed receipt of this node sampled and not yet revealed, sealed to its auditor. */
    private void reveal() throws IOException {
        StateView state = chain.state();
        long since = chain.head().height() - parameters.audit().holdBlocks() - 2;
        for (ServedRequests.Entry entry : store.claimedSince(since)) {
            String id = entry.id();
            if (revealed.contains(id)) {
                continue;
            }
            var audit = BenefitState.audit(state, entry.receipt().id());
            if (audit.isEmpty() || audit.get().phase() != BenefitState.Phase.SAMPLED || !audit.get().node().equals(node)) {
                continue;
            }
            PublicKey auditor = audit.get().auditor();
            Optional<byte[]> auditKey = BenefitState.auditKey(state, auditor);
            if (auditKey.isEmpty()) {
                LOG.warn("receipt {} is sampled for auditor {}, which has no audit key: cannot reveal", id, auditor);
                continue;
            }
            byte[] plain;
            try {
                plain = store.request(id).encode();
            } catch (IOException e) {
                LOG.error("receipt {} is sampled but cannot be revealed: {}; the node will be found at fault", id,
                        e.getMessage());
                revealed.add(id);
                continue;
            }
            byte[] secret = new byte[RevealCipher.KEY_BYTES];
            random.nextBytes(secret);
            store.secret(id, secret);
            byte[] sealed = RevealCipher.seal(auditKey.get(), entry.receipt().id(), plain, secret);
            if (NodeTransactions.submit(chain, identity, BenefitPayloads.REVEAL, new BenefitPayloads.Reveal(
                    entry.receipt().id(), sealed).encode(), "reveal of receipt " + id + " to " + auditor).committed()) {
                revealed.add(id);
                LOG.info("revealed receipt {} to auditor {} ({} sealed bytes)", id, auditor, sealed.length);
            }
        }
        revealed.retainAll(store.claimedSince(since).stream().map(ServedRequests.Entry::id).toList());
    }
}
