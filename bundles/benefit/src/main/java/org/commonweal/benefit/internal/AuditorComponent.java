package org.commonweal.benefit.internal;

import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitPayloads.Verdict;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.BenefitState.Audit;
import org.commonweal.benefit.BenefitState.Phase;
import org.commonweal.benefit.RevealCipher;
import org.commonweal.benefit.RevealedRequest;
import org.commonweal.chain.Chain;
import org.commonweal.crypto.PublicKey;
import org.commonweal.node.api.NodeIdentity;
import org.commonweal.node.api.BundleThreads;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.util.tracker.ServiceTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node as an auditor. While proof of benefit runs ({@link BenefitParameters} registered: an optional reference,
 * so that a node without proof of benefit is healthy) and the node serves
 * models ({@code org.commonweal.inference.LanguageModels}, optional: a node without inference runs the ledger rules
 * and audits nothing), it publishes its audit key once it is a registered, staked node, and after every committed
 * block does the audits assigned to it: opens the reveal (as auditor with its audit secret, as referee with the
 * disclosed secret), re-runs the request on the receipt's model and attests the match or the mismatch, signed by
 * the node key. One audit at a time, on its own thread, each transaction awaited before the next (one nonce sequence).
 */
@Component(immediate = true, service = {})
public final class AuditorComponent {

    private static final Logger LOG = LoggerFactory.getLogger(AuditorComponent.class);
    private static final String MODELS = "org.commonweal.inference.LanguageModels";

    private final Chain chain;
    private final NodeIdentity identity;
    /** Present while proof of benefit runs on this node (an optional reference: without it the node is still healthy). */
    @Reference(name = "parameters", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile BenefitParameters parameters;
    private final PublicKey node;
    private final byte[] auditSecret;
    private final byte[] auditKey;
    private final ServiceTracker<Object, Object> models;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(BundleThreads.factory("benefit-auditor"));
    private final AutoCloseable subscription;
    /** Audits this node attested (or gave up on), so that a block arriving before the attestation commits is not re-run. */
    private final Set<String> done = new HashSet<>();
    private volatile boolean pendingWork;

    @Activate
    public AuditorComponent(BundleContext context, @Reference(name = "chain") Chain chain,
            @Reference(name = "identity") NodeIdentity identity) {
        this.chain = chain;
        this.identity = identity;
        this.node = PublicKey.of(identity.publicKey());
        this.auditSecret = RevealCipher.auditSecret(identity.sign(RevealCipher.AUDIT_KEY_MESSAGE));
        this.auditKey = RevealCipher.publicKey(auditSecret);
        this.models = new ServiceTracker<>(context, MODELS, null);
        models.open(true);
        this.subscription = chain.subscribe(block -> schedule());
        schedule();
    }

    @Deactivate
    void deactivate() throws Exception {
        subscription.close();
        worker.shutdownNow();
        worker.awaitTermination(10, TimeUnit.SECONDS);
        models.close();
    }

    /** Coalesces blocks: at most one pass waits behind the running one. */
    private void schedule() {
        if (pendingWork) {
            return;
        }
        pendingWork = true;
        worker.execute(() -> {
            pendingWork = false;
            try {
                work();
            } catch (RuntimeException e) {
                LOG.warn("the auditor's pass failed; it runs again after the next block", e);
            }
        });
    }

    private void work() {
        BenefitParameters parameters = this.parameters;
        Object service = models.getService();
        if (parameters == null || service == null || parameters.audit().sampleRate() == 0) {
            return; // proof of benefit is off, nothing to re-run with, or no audits on this chain
        }
        Reexecution reexecution;
        try {
            reexecution = new ModelReexecution(service);
        } catch (LinkageError e) {
            LOG.warn("the inference package is not wired to the benefit bundle (refresh it): this node does not audit", e);
            return;
        }
        publishAuditKey(parameters);
        List<Audit> audits = BenefitState.auditsOf(chain.state(), node, 1_000);
        Set<String> open = new HashSet<>();
        for (Audit audit : audits) {
            boolean asAuditor = audit.phase() == Phase.REVEALED && audit.auditor().equals(node);
            boolean asReferee = audit.phase() == Phase.DISPUTED && audit.referee().equals(node);
            String id = HexFormat.of().formatHex(audit.receiptId()) + "/" + audit.phase();
            open.add(id);
            if ((!asAuditor && !asReferee) || done.contains(id)) {
                continue;
            }
            done.add(id);
            audit(audit, asAuditor, reexecution);
        }
        done.retainAll(open); // closed audits are not seen again
    }

    private void audit(Audit audit, boolean asAuditor, Reexecution reexecution) {
        String receipt = HexFormat.of().formatHex(audit.receiptId());
        RevealedRequest request;
        try {
            byte[] sealed = BenefitState.sealedReveal(chain.state(), audit).orElseThrow();
            byte[] plain = asAuditor ? RevealCipher.open(auditSecret, audit.receiptId(), sealed)
                    : RevealCipher.openDisclosed(audit.disclosedSecret(), audit.sealedTo(), audit.receiptId(), sealed);
            request = RevealedRequest.decode(plain);
        } catch (Exception e) {
            // an unreadable reveal is a mismatch: the node may dispute it by disclosing its secret, and the referee decides
            LOG.warn("the reveal of receipt {} does not open ({}): attesting a mismatch", receipt, e.getMessage());
            submit(BenefitPayloads.ATTEST, new BenefitPayloads.Attestation(audit.receiptId(), Verdict.MISMATCH,
                    new byte[32]).encode(), "mismatch (unreadable reveal) of receipt " + receipt);
            return;
        }
        byte[] computed;
        long started = System.nanoTime();
        try {
            computed = reexecution.outputHash(audit.receipt(), request);
        } catch (Exception e) {
            LOG.warn("cannot re-run receipt {}: {}; it is not attested by this node", receipt, e.getMessage());
            return;
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        boolean match = Arrays.equals(computed, audit.receipt().outputHash());
        if (!match && asAuditor && !Arrays.equals(request.outputHash(), audit.receipt().outputHash())) {
            LOG.info("receipt {}: the reveal's output is not the receipt's", receipt);
        }
        LOG.info("re-ran receipt {} as {} in {} ms: {}", receipt, asAuditor ? "auditor" : "referee", millis,
                match ? "match" : "MISMATCH");
        submit(BenefitPayloads.ATTEST, new BenefitPayloads.Attestation(audit.receiptId(), match ? Verdict.MATCH
                : Verdict.MISMATCH, computed).encode(), (match ? "match" : "mismatch") + " of receipt " + receipt);
    }

    private boolean keyPublished;

    private void publishAuditKey(BenefitParameters parameters) {
        if (keyPublished) {
            return;
        }
        var state = chain.state();
        var registered = BenefitState.node(state, node);
        if (registered.isEmpty() || registered.get().stake() < parameters.minStake()) {
            return; // not (yet) a node that may audit
        }
        if (BenefitState.auditKey(state, node).map(k -> Arrays.equals(k, auditKey)).orElse(false)) {
            keyPublished = true;
            return;
        }
        keyPublished = submit(BenefitPayloads.AUDIT_KEY, new BenefitPayloads.AuditKey(auditKey).encode(), "audit key");
    }

    /** Signs with the node key, submits and waits for the commit; false if it was refused or not committed in time. */
    private boolean submit(int type, byte[] payload, String what) {
        return NodeTransactions.submit(chain, identity, type, payload, "auditor's " + what).committed();
    }
}
