package org.commonweal.consensus.bft.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

import org.commonweal.consensus.ConsensusEngine;
import org.commonweal.consensus.EngineContext;
import org.commonweal.consensus.bft.network.TcpTransport;
import org.commonweal.consensus.bft.network.ValidatorAddresses;
import org.commonweal.crypto.PublicKey;
import org.commonweal.node.api.NodeIdentity;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The BFT engine in a node: configuration {@code org.commonweal.consensus.bft} names the validators
 * ({@code <node key>@<host>:<port>}, the same list in the same order on every node); this node is the
 * validator whose key is its node key. When the chain starts the engine, it opens the validator network
 * ({@link TcpTransport}) for the chain and runs {@link BftEngine} over it; the safety state lives in
 * {@code <data dir>/bft/safety}.
 */
@Component(service = ConsensusEngine.class, configurationPid = "org.commonweal.consensus.bft",
        configurationPolicy = ConfigurationPolicy.REQUIRE)
public final class BftComponent implements ConsensusEngine {

    private static final Logger LOG = LoggerFactory.getLogger(BftComponent.class);

    /** The configuration (property names with '.' for '_'). */
    public @interface Config {
        /**
         * Every validator as {@code <64 hex digit node key>@<host>:<port>}, in the chain's validator order;
         * {@code self@<host>:<port>} stands for this node's own key (a single-validator network needs no
         * key known in advance).
         */
        String[] validators();

        /** Where this validator listens, if not at its own entry's address (e.g. 0.0.0.0:port behind NAT). */
        String listen() default "";

        long baseTimeoutMillis() default 1_000;

        long idleProposalWaitMillis() default 20;

        int maxBatchTransactions() default 2_000;

        long batchIntervalMillis() default 20;

        int maxBlockBatches() default 64;
    }

    private final NodeIdentity identity;
    private final ValidatorAddresses validators;
    private final int me;
    private final java.net.InetSocketAddress listen;
    private final BftEngine.Settings settings;
    private final Path safetyFile;
    private TcpTransport transport;
    private BftEngine engine;

    @Activate
    public BftComponent(BundleContext context, Config config, @Reference(name = "identity") NodeIdentity identity) {
        this.identity = identity;
        PublicKey key = PublicKey.of(identity.publicKey());
        this.validators = ValidatorAddresses.parse(java.util.Arrays.stream(config.validators())
                .map(entry -> entry.strip().startsWith("self@") ? key.hex() + entry.strip().substring(4) : entry).toList());
        this.me = validators.validators().keys().indexOf(key);
        if (me < 0) {
            throw new IllegalArgumentException("this node (key " + key.hex() + ") is not one of the " + validators.validators().size()
                    + " validators of org.commonweal.consensus.bft: add '" + key.hex() + "@<host>:<port>' to every node's"
                    + " validator list, or run this node with the solo engine");
        }
        this.listen = config.listen().isBlank() ? null : ValidatorAddresses.parse(List.of(key.hex() + "@" + config.listen()))
                .addresses().getFirst();
        this.settings = new BftEngine.Settings(validators.validators(), me, config.baseTimeoutMillis(),
                config.idleProposalWaitMillis(), config.maxBatchTransactions(), config.batchIntervalMillis(),
                config.maxBlockBatches());
        this.safetyFile = Path.of(context.getProperty("commonweal.data.dir"), "bft", "safety");
        LOG.info("BFT validator {} of {} (f = {}), listening at {}", me, validators.validators().size(),
                validators.validators().faults(), listen != null ? listen : validators.addresses().get(me));
    }

    @Override
    public String name() {
        return BftEngine.NAME;
    }

    @Override
    public synchronized void start(EngineContext context) {
        try {
            transport = TcpTransport.start(new TcpTransport.Settings(context.chainId(), validators.validators(),
                    validators.addresses(), me, listen, TcpTransport.Limits.defaults()), identity::sign);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        engine = new BftEngine(settings, identity::sign, transport, safetyFile, System::currentTimeMillis);
        engine.start(context);
    }

    @Override
    @Deactivate
    public synchronized void stop() {
        if (engine != null) {
            engine.stop();
            engine = null;
        }
        if (transport != null) {
            transport.close();
            transport = null;
        }
    }
}
