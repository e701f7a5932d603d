package org.commonweal.chain.internal;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.commonweal.chain.Chain;
import org.commonweal.consensus.ConsensusEngine;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.SignatureBatch;
import org.commonweal.ledger.Mempool;
import org.commonweal.ledger.BlockRule;
import org.commonweal.ledger.PayloadType;
import org.commonweal.ledger.PayloadTypes;
import org.commonweal.node.api.HealthCheck;
import org.commonweal.node.api.NodeIdentity;
import org.commonweal.node.api.BundleThreads;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chain as a node runs it: opens (recovers) the {@link LocalChain} from the configuration
 * {@code org.commonweal.chain}, registers it as the {@link Chain} service and a {@link HealthCheck},
 * feeds it the registered {@link PayloadType}s and {@link BlockRule}s, and runs the consensus engine the schedule names for
 * the next height, handing over when a slot ends or an engine comes or goes.
 */
@Component(immediate = true, configurationPid = "org.commonweal.chain", configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {})
public final class ChainComponent {

    private static final Logger LOG = LoggerFactory.getLogger(ChainComponent.class);

    /** The configuration (property names with '.' for '_'). */
    public @interface Config {
        /** The chain id every transaction is signed for. */
        int chainId() default 1;

        /** Genesis accounts, each {@code <64 hex digit key>=<amount>}. */
        String[] genesis_balances() default {};

        /** Development only: this node's own key gets this balance at genesis (0: not). */
        long genesis_nodeKeyBalance() default 0;

        long genesis_timeMillis() default 0;

        /** The engine schedule, e.g. {@code solo@1} or {@code solo@1, bft@5000}. */
        String[] engines() default { "solo@1" };

        int block_maxTransactions() default 20_000;

        long snapshot_interval() default 1_000;

        int snapshot_kept() default 2;

        int mempool_maxTransactions() default 200_000;

        /** The chain's directory; default {@code <data dir>/chain}. */
        String directory() default "";

        /**
         * Names of the payload types and block rules this chain's blocks need (e.g. {@code benefit}): the chain
         * opens, and replays its log, only once every one is registered.
         */
        String[] extensions_required() default {};
    }

    private final List<PayloadType> payloadTypes = new CopyOnWriteArrayList<>();
    private final List<BlockRule> blockRules = new CopyOnWriteArrayList<>();
    private final Map<String, ConsensusEngine> engines = new HashMap<>();
    private final ExecutorService scheduler = Executors.newSingleThreadExecutor(BundleThreads.factory("chain-engines"));
    private final SignatureBatch signatures = SignatureBatch.ofAvailableProcessors();
    private volatile LocalChain chain;
    private EngineSchedule schedule;
    private BundleContext context;
    private ChainSettings settings;
    private Path directory;
    private java.util.Set<String> requiredExtensions = java.util.Set.of();
    /** Why the chain is not open yet (missing extensions, or a failure opening it late); null once open. */
    private volatile String notOpen;
    private ServiceRegistration<Chain> registration;
    private ServiceRegistration<HealthCheck> healthRegistration;
    /** Touched only on the scheduler thread. */
    private Running running;
    private volatile String waitingFor;

    private record Running(ConsensusEngine engine, EngineSchedule.Slot slot, LocalChain.EngineSession session) {
    }

    @Activate
    public ChainComponent(BundleContext context, Config config, @Reference(name = "identity") NodeIdentity identity) {
        try {
            schedule = EngineSchedule.parse(config.engines());
            Map<PublicKey, Long> balances = new HashMap<>();
            for (String entry : config.genesis_balances()) {
                String[] parts = entry.split("=", -1);
                try {
                    balances.merge(PublicKey.fromHex(parts[0].trim()), Long.parseLong(parts[1].trim()), Math::addExact);
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("genesis.balances entry '" + entry + "' is not <64 hex digit key>=<amount>: "
                            + e.getMessage(), e);
                }
            }
            if (config.genesis_nodeKeyBalance() > 0) {
                balances.merge(PublicKey.of(identity.publicKey()), config.genesis_nodeKeyBalance(), Math::addExact);
            }
            ChainSettings settings = new ChainSettings(config.chainId(), balances, config.genesis_timeMillis(),
                    config.block_maxTransactions(), config.snapshot_interval(), config.snapshot_kept(),
                    new Mempool.Limits(config.mempool_maxTransactions(), Mempool.Limits.defaults().maxBytes(),
                            Mempool.Limits.defaults().maxPerSender(), Mempool.Limits.defaults().maxAgeMillis()));
            this.directory = config.directory().isBlank()
                    ? Path.of(context.getProperty("commonweal.data.dir"), "chain") : Path.of(config.directory());
            this.settings = settings;
            this.context = context;
            this.requiredExtensions = new java.util.TreeSet<>(java.util.Arrays.stream(config.extensions_required())
                    .map(String::trim).filter(name -> !name.isEmpty()).toList());
            if (requiredExtensions.isEmpty()) {
                open();
            } else {
                // The extensions' services are bound after this constructor: the chain opens from the bind methods.
                notOpen = "waiting for the extensions " + requiredExtensions + " (configuration extensions.required) before"
                        + " replaying the chain: install the bundles that register them";
                LOG.info("the chain is {}", notOpen);
            }
        } catch (RuntimeException e) {
            signatures.close();
            scheduler.shutdown();
            LOG.error("the chain cannot start: {}", e.getMessage());
            throw e;
        }
        healthRegistration = context.registerService(HealthCheck.class, new HealthCheck() {
            @Override
            public String name() {
                return "chain";
            }

            @Override
            public Result check() {
                return health();
            }
        }, null);
        reconcile();
    }

    /** Opens (recovers) the chain with the extensions registered now and offers it as the {@link Chain} service. */
    private synchronized void open() {
        LocalChain opened = LocalChain.open(directory, settings, extensions(), signatures, System::currentTimeMillis);
        opened.afterCommit(this::afterCommit);
        chain = opened;
        notOpen = null;
        registration = context.registerService(Chain.class, opened, null);
    }

    /** Opens the chain once every required extension is registered (called as extensions come). */
    private synchronized void openIfReady() {
        if (chain != null || requiredExtensions.isEmpty() || scheduler.isShutdown()) {
            return;
        }
        java.util.Set<String> missing = new java.util.TreeSet<>(requiredExtensions);
        payloadTypes.forEach(type -> missing.remove(type.name()));
        blockRules.forEach(rule -> missing.remove(rule.name()));
        if (!missing.isEmpty()) {
            notOpen = "waiting for the extensions " + missing + " (configuration extensions.required) before replaying"
                    + " the chain: install the bundles that register them";
            return;
        }
        try {
            open();
            LOG.info("the chain opened with its required extensions {}", requiredExtensions);
            reconcile();
        } catch (RuntimeException e) {
            notOpen = "the chain cannot start: " + e.getMessage();
            LOG.error(notOpen);
        }
    }

    @Deactivate
    void deactivate() {
        healthRegistration.unregister();
        if (registration != null) {
            registration.unregister();
        }
        scheduler.submit(() -> stopRunning("the chain is stopping"));
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("the consensus engine did not stop within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (chain != null) {
            chain.close();
        }
        signatures.close();
    }

    @Reference(name = "payloadTypes", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addPayloadType(PayloadType type) {
        payloadTypes.add(type);
        updatePayloadTypes();
        openIfReady();
    }

    void removePayloadType(PayloadType type) {
        payloadTypes.remove(type);
        updatePayloadTypes();
    }

    @Reference(name = "blockRules", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addBlockRule(BlockRule rule) {
        blockRules.add(rule);
        updatePayloadTypes();
        openIfReady();
    }

    void removeBlockRule(BlockRule rule) {
        blockRules.remove(rule);
        updatePayloadTypes();
    }

    private PayloadTypes extensions() {
        return PayloadTypes.standardPlus(payloadTypes).withBlockRules(blockRules);
    }

    private synchronized void updatePayloadTypes() {
        if (chain != null) {
            try {
                PayloadTypes extensions = extensions();
                chain.payloadTypes(extensions);
                LOG.info("payload types now: {}", extensions);
            } catch (IllegalArgumentException e) {
                LOG.error("payload types not changed: {}", e.getMessage());
            }
        }
    }

    @Reference(name = "engines", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addEngine(ConsensusEngine engine) {
        synchronized (engines) {
            engines.put(engine.name(), engine);
        }
        reconcile();
    }

    void removeEngine(ConsensusEngine engine) {
        synchronized (engines) {
            engines.remove(engine.name(), engine);
        }
        reconcile();
    }

    private void afterCommit() {
        Running now = running;
        if (now != null && chain.head().height() >= now.slot().last()) {
            reconcile();
        }
    }

    private void reconcile() {
        if (chain == null || scheduler.isShutdown()) {
            return;
        }
        scheduler.submit(() -> {
            EngineSchedule.Slot slot = schedule.slotFor(chain.head().height() + 1);
            ConsensusEngine wanted;
            synchronized (engines) {
                wanted = engines.get(slot.engine());
            }
            if (running != null && (running.engine() != wanted || !running.slot().equals(slot))) {
                stopRunning("height " + (chain.head().height() + 1) + " belongs to " + slot.engine() + "@" + slot.first());
            }
            if (running == null && wanted != null) {
                LocalChain.EngineSession session = chain.session(slot.last());
                wanted.start(session);
                running = new Running(wanted, slot, session);
                chain.engine(slot.engine());
                waitingFor = null;
                LOG.info("consensus engine {} commits from height {} {}", slot.engine(), chain.head().height() + 1,
                        slot.last() == Long.MAX_VALUE ? "on" : "to " + slot.last());
            } else if (running == null) {
                waitingFor = slot.engine();
                LOG.warn("no consensus engine named '{}' is installed; the chain waits at height {} (schedule: {})",
                        slot.engine(), chain.head().height(), schedule);
            }
        });
    }

    private void stopRunning(String why) {
        if (running != null) {
            running.session().close();
            running.engine().stop();
            LOG.info("consensus engine {} stopped: {}", running.slot().engine(), why);
            running = null;
            chain.engine(null);
        }
    }

    private HealthCheck.Result health() {
        String why = notOpen;
        if (why != null) {
            return HealthCheck.Result.unhealthy(why);
        }
        String waiting = waitingFor;
        if (waiting != null) {
            return HealthCheck.Result.unhealthy("no consensus engine '" + waiting + "' is installed: add the bundle that"
                    + " provides it to the distribution (the chain waits at height " + chain.head().height() + ")");
        }
        return HealthCheck.Result.healthy("chain " + chain.chainId() + " at height " + chain.head().height()
                + ", engine " + chain.engine().orElse("(handing over)"));
    }
}
