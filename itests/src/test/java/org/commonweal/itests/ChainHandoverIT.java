package org.commonweal.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

import javax.inject.Inject;

import org.commonweal.chain.Chain;
import org.commonweal.consensus.CommitCertificate;
import org.commonweal.consensus.ConsensusEngine;
import org.commonweal.consensus.EngineContext;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.ledger.Transfer;
import org.commonweal.node.api.HealthCheck;
import org.commonweal.node.api.NodeIdentity;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The engine schedule in the running node: the configuration changes to {@code solo@1, relay@H}; the
 * chain restarts from its log, solo commits up to H-1, the chain waits (and says so in its health) until
 * an engine named {@code relay} is registered by another bundle, which then continues the same chain.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ChainHandoverIT {

    @Inject
    private BundleContext context;

    @Inject
    private NodeIdentity identity;

    @Configuration
    public Option[] configuration() {
        return DevDistribution.paxExamOptions(DevDistribution.workFolder("chain-handover"), DevDistribution.freePort());
    }

    /** A second engine: one thread, blocks of what the mempool has, certificates signed by its own key. */
    private static final class RelayEngine implements ConsensusEngine {
        final PrivateKey key = Ed25519.fromSeed(new byte[32]);
        private volatile boolean running;
        private Thread thread;

        @Override
        public String name() {
            return "relay";
        }

        @Override
        public void start(EngineContext context) {
            running = true;
            thread = Thread.ofPlatform().name("relay-engine").start(() -> {
                try {
                    while (running && context.head().height() < context.lastHeight()) {
                        if (context.awaitTransactions(100)) {
                            var head = context.head();
                            Block block = context.propose(head, context.candidates(head, 100), key.publicKey(),
                                    System.currentTimeMillis());
                            if (!block.transactions().isEmpty()) {
                                context.commit(block, CommitCertificate.signedBy("relay", context.chainId(), block.header().height(),
                                        block.header().hash(), key.publicKey(), key::sign));
                            }
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }

        @Override
        public void stop() {
            running = false;
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private Chain chain() {
        ServiceReference<Chain> reference = context.getServiceReference(Chain.class);
        return reference == null ? null : context.getService(reference);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!condition.getAsBoolean()) {
            assertTrue("within 30 s: " + what, System.currentTimeMillis() < deadline);
            Thread.sleep(20);
        }
    }

    private Transaction transfer(Chain chain) {
        PublicKey sender = PublicKey.of(identity.publicKey());
        long nonce = chain.account(sender).nonce();
        byte[] payload = new Transfer(PublicKey.of(new byte[32]), 1).encode();
        return new Transaction(chain.chainId(), sender, nonce, 1, Transfer.TYPE, payload,
                identity.sign(TransactionCodec.signingBytes(chain.chainId(), sender, nonce, 1, Transfer.TYPE, payload)));
    }

    /** Submits one transfer and waits for it: one block each. */
    private void commitOne(Chain chain) throws Exception {
        Transaction tx = transfer(chain);
        assertEquals(List.of(org.commonweal.ledger.Mempool.Outcome.ACCEPTED),
                chain.submit(List.of(tx)).stream().map(a -> a.outcome()).toList());
        assertTrue(chain.awaitCommitted(tx.id(), 20_000).orElseThrow().committed());
    }

    private HealthCheck.Result chainHealth() {
        for (ServiceReference<HealthCheck> reference : getHealthChecks()) {
            HealthCheck check = context.getService(reference);
            if (check.name().equals("chain")) {
                return check.check();
            }
        }
        throw new AssertionError("no chain health check");
    }

    private java.util.Collection<ServiceReference<HealthCheck>> getHealthChecks() {
        try {
            return context.getServiceReferences(HealthCheck.class, null);
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    public void theChainHandsOverToTheNextScheduledEngineAtItsHeightWithoutAFork() throws Exception {
        await("the chain is up", () -> chain() != null);
        Chain before = chain();
        commitOne(before);
        long handover = before.head().height() + 3;

        ConfigurationAdmin admin = context.getService(context.getServiceReference(ConfigurationAdmin.class));
        org.osgi.service.cm.Configuration configuration = admin.getConfiguration("org.commonweal.chain", "?");
        Dictionary<String, Object> properties = configuration.getProperties();
        Dictionary<String, Object> updated = new Hashtable<>();
        for (String key : java.util.Collections.list(properties.keys())) {
            updated.put(key, properties.get(key));
        }
        updated.put("engines", new String[] { "solo@1", "relay@" + handover });
        configuration.update(updated);
        await("the chain restarts with the new schedule", () -> chain() != null && chain() != before
                && chain().engine().equals(Optional.of("solo")));
        Chain chain = chain();
        assertEquals("restarted from its log at the same head", before.head(), chain.head());

        while (chain.head().height() < handover - 1) {
            commitOne(chain);
        }
        await("solo stops at its last height", () -> chain.engine().isEmpty());
        assertFalse(chainHealth().healthy());
        assertTrue(chainHealth().detail(), chainHealth().detail().contains("no consensus engine 'relay' is installed"));
        Transaction waiting = transfer(chain);
        chain.submit(List.of(waiting));
        Thread.sleep(500);
        assertEquals("nothing commits beyond solo's slot", handover - 1, chain.head().height());

        RelayEngine relay = new RelayEngine();
        ServiceRegistration<ConsensusEngine> registration = context.registerService(ConsensusEngine.class, relay, null);
        try {
            assertTrue(chain.awaitCommitted(waiting.id(), 20_000).orElseThrow().committed());
            Block first = chain.block(handover).orElseThrow();
            assertArrayEquals("the same chain: block " + handover + " follows solo's last block",
                    chain.block(handover - 1).orElseThrow().header().hash(), first.header().previousHash());
            assertEquals("relay", chain.certificate(handover).orElseThrow().engine());
            assertEquals(relay.key.publicKey(), chain.certificate(handover).orElseThrow().votes().getFirst().signer());
            assertEquals("solo", chain.certificate(handover - 1).orElseThrow().engine());
            assertTrue(chainHealth().detail(), chainHealth().healthy());
        } finally {
            registration.unregister();
        }
        await("the chain notices its engine left", () -> chain.engine().isEmpty());
    }
}
