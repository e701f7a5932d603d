package org.commonweal.management;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.commonweal.crypto.Sha256;
import org.commonweal.node.api.NodeHealth;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.Version;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The management agent: upgrades one installed bundle in the running node from the node's repositories, verified
 * against the distribution's trust roots; shows the plan (the bundle updated, the refresh set) before anything
 * changes; applies it (update, then a refresh of the dependency closure only); waits for the node to be healthy as
 * {@code GET /health} judges it; rolls back to the previous jar when it is not; probes whether the old revision's class
 * loader is collected. One operation at a time; every step goes to the audit log.
 */
@Component(service = UpgradeAgent.class, configurationPid = UpgradeAgent.PID, immediate = true)
public final class UpgradeAgent {

    static final String PID = "org.commonweal.management";
    /** Framework properties the launcher sets from the distribution (see Node in the launcher). */
    static final String TRUST_FILE_PROPERTY = "commonweal.trust.file";
    static final String REPOSITORIES_PROPERTY = "commonweal.repositories";
    static final String DATA_DIR_PROPERTY = "commonweal.data.dir";
    /** Bundles whose kept upgrade the launcher installed at start, comma-separated. */
    static final String APPLIED_PROPERTY = "commonweal.management.reinstalled";

    private static final Logger LOG = LoggerFactory.getLogger(UpgradeAgent.class);

    /** Configuration {@value #PID}. */
    public @interface Config {
        /** Repositories (folders or URLs) to upgrade from, instead of the distribution's. */
        String[] repositories() default {};

        /** How long the node may take to become healthy after an update before it is rolled back. */
        long health_timeout_ms() default 10_000;

        /** How long the node must stay healthy before the upgrade counts as healthy. */
        long health_settle_ms() default 300;

        /** How long the leak probe waits for the old revision's class loader to be collected (0: no probe). */
        long leakProbe_timeout_ms() default 5_000;
    }


    private final BundleContext context;
    private final Config config;
    private final Path directory;
    private final AuditLog audit;
    private volatile NodeHealth health;
    private final RunningVersions runningVersions;
    /** Bundles upgraded in this data directory (running.json), as far as they run here now. */
    private final Map<String, RunningVersions.Entry> upgraded = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
    /** Read by GET /admin/upgrades without waiting for an operation in progress. */
    private final Deque<Outcome> history = new ConcurrentLinkedDeque<>();
    private volatile long lastHealthyMillis = -1;

    private final ServiceComponentRuntime scr;

    @Activate
    public UpgradeAgent(BundleContext context, Config config, @Reference(name = "scr") ServiceComponentRuntime scr)
            throws IOException {
        this.context = context;
        this.scr = scr;
        this.config = config;
        String data = context.getProperty(DATA_DIR_PROPERTY);
        // Outside cw node (no data directory given), the bundle's own storage area.
        this.directory = data == null ? context.getDataFile("").toPath() : Path.of(data).resolve("management");
        this.audit = new AuditLog(directory.resolve("audit.jsonl"));
        this.runningVersions = new RunningVersions(directory);
        // The launcher re-installed these kept upgrades at start (see Node.applyKeptUpgrades); the others no longer
        // apply (the distribution changed) and are dropped.
        String applied = context.getProperty(APPLIED_PROPERTY);
        List<String> reinstalled = applied == null || applied.isBlank() ? List.of() : List.of(applied.split(","));
        try {
            runningVersions.read().forEach((bsn, entry) -> {
                if (reinstalled.contains(bsn)) {
                    upgraded.put(bsn, entry);
                }
            });
            runningVersions.write(upgraded);
        } catch (IOException | RuntimeException e) {
            LOG.warn("event=running-versions-unreadable file={} error=\"{}\"; upgrades made before this start are not"
                    + " known, cw rollback cannot return to them", directory.resolve(RunningVersions.FILE), e.toString());
        }
    }

    @Reference(name = "health", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void setHealth(NodeHealth health) {
        this.health = health;
    }

    void unsetHealth(NodeHealth health) {
        if (this.health == health) {
            this.health = null;
        }
    }

    @Deactivate
    void deactivate() throws IOException {
        audit.close();
    }

    Path auditFile() {
        return audit.file();
    }

    /** Counts of outcomes by "action result", for /metrics. */
    Map<String, Long> counts() {
        Map<String, Long> out = new LinkedHashMap<>();
        counts.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    long lastHealthyMillis() {
        return lastHealthyMillis;
    }

    List<Outcome> history() {
        return List.copyOf(history);
    }

    /** Every configuration value with its layer (see {@link ConfigurationReport}). */
    List<ConfigurationReport.Value> configuration() throws IOException {
        return ConfigurationReport.of(directory, scr);
    }

    /** The operator's configuration values of the bundle's components, which an upgrade keeps. */
    private List<String> operatorValues(Bundle bundle) {
        try {
            java.util.Set<String> pids = new java.util.HashSet<>();
            scr.getComponentDescriptionDTOs(bundle).forEach(d -> pids.addAll(List.of(d.configurationPid)));
            return ConfigurationReport.operatorValuesOf(configuration(), pids);
        } catch (IOException | RuntimeException e) {
            return List.of("(the configuration's sources cannot be read: " + e.getMessage() + ")");
        }
    }

    /**
     * The operator values of the bundle's components whose default the jar about to run changes (see
     * {@link ConfigurationReport#conflicts}).
     */
    private List<String> configurationConflicts(Bundle bundle, byte[] next) {
        try {
            return ConfigurationReport.conflicts(configuration(),
                    ConfigurationReport.defaultsOf(scr.getComponentDescriptionDTOs(bundle)), ConfigurationReport.defaultsIn(next));
        } catch (Exception e) {
            return List.of("(the component defaults of the version about to run cannot be read: " + e.getMessage() + ")");
        }
    }

    private static void warnConflicts(String bsn, Outcome.Plan plan) {
        for (String conflict : plan.configurationConflicts()) {
            LOG.warn("event=configuration-conflict bundle={} to={} conflict=\"{}\"", bsn, plan.to(), conflict);
        }
    }

    /**
     * Plans (and with {@code apply}, performs) the upgrade of {@code spec}, {@code SYMBOLIC-NAME[@VERSION]}: without a
     * version, the highest the repositories offer.
     */
    public synchronized Outcome upgrade(String actor, String spec, boolean force, boolean apply) {
        Steps steps = new Steps();
        String action = apply ? "upgrade" : "plan";
        String bsn = spec.contains("@") ? spec.substring(0, spec.indexOf('@')) : spec;
        String wanted = spec.contains("@") ? spec.substring(spec.indexOf('@') + 1) : null;
        audit.write(actor, action, "requested", "ok", fields("bundle", bsn, "version", wanted, "force", force));
        Bundle bundle = null;
        Outcome.Plan plan = null;
        try {
            bundle = installed(bsn);
            Version version = null;
            if (wanted != null) {
                try {
                    version = Version.parseVersion(wanted);
                } catch (IllegalArgumentException e) {
                    throw new UpgradeException("'" + wanted + "' is not a bundle version. Fix: give major.minor.micro[.qualifier],"
                            + " e.g. " + bsn + "@1.2.0, or no version for the highest");
                }
            }
            TrustRoots trust = trust();
            SignedRepository.Entry entry = choose(bsn, version, trust);
            byte[] jar = entry.repository().fetch(entry);
            steps.add("verified", "index signature, publisher signature and trust, size and SHA-256 of " + entry.name());
            byte[] running = runningJar(bundle);
            String runningSha = hex(Sha256.hash(running));
            if (runningSha.equals(entry.sha256())) {
                throw new UpgradeException("bundle " + bsn + " " + bundle.getVersion() + " already runs exactly that jar (sha256 "
                        + entry.sha256() + "). Fix: publish a new version to upgrade to");
            }
            RefreshPlan refresh = RefreshPlan.of(bundle, context.getBundle(0).adapt(FrameworkWiring.class));
            plan = new Outcome.Plan(bsn, bundle.getVersion().toString(), entry.version().toString(), entry.sha256(),
                    entry.mavenId(), trust.nameOf(entry.publisher()), entry.publisher().hex(),
                    entry.repository().location(), List.of(name(bundle)), names(refresh.refreshSet()),
                    names(refresh.dependents()), names(refresh.beyond()), force && !refresh.beyond().isEmpty(),
                    operatorValues(bundle), configurationConflicts(bundle, jar));
            steps.add("planned", "update 1 bundle, refresh " + refresh.refreshSet().size());
            refuseUnsafe(bundle, refresh, force);
            audit.write(actor, action, "planned", "ok", fields("bundle", bsn, "from", plan.from(), "to", plan.to(),
                    "sha256", plan.sha256(), "publisherKey", plan.publisherKey(), "publisher", plan.publisher(),
                    "repository", plan.repository(), "refresh", plan.refresh(), "forced", plan.forced(),
                    "operatorValuesKept", plan.operatorValuesKept(), "configurationConflicts", plan.configurationConflicts()));
            warnConflicts(bsn, plan);
            if (!apply) {
                return finish(actor, new Outcome(action, bsn, plan.from(), plan.to(), "planned", "nothing changed; apply"
                        + " with the same request without --plan", plan, steps.list(), -1, null));
            }
            RunningVersions.Jar before = keep(bsn, bundle.getVersion().toString(), runningSha, running);
            Path newJar = store(bsn, entry.version().toString(), entry.sha256(), jar);
            WeakReference<ClassLoader> oldLoader = loaderOf(bundle);
            List<Bundle> active = active(refresh);
            List<String> problems = swap(bundle, jar, refresh, active, steps);
            if (!problems.isEmpty()) {
                audit.write(actor, action, "health", "failed", fields("bundle", bsn, "to", plan.to(), "problems", problems));
                LOG.warn("event=upgrade-unhealthy bundle={} to={} problems=\"{}\"; rolling back", bsn, plan.to(), problems);
                List<String> afterRollback = swap(bundle, Files.readAllBytes(before.jar()), refresh, active,
                        steps.prefixed("rollback "));
                String result = afterRollback.isEmpty() ? "rolled-back" : "failed";
                audit.write(actor, action, "rollback", afterRollback.isEmpty() ? "ok" : "failed",
                        fields("bundle", bsn, "to", before.version(), "sha256", before.sha256(), "problems", afterRollback));
                return finish(actor, new Outcome(action, bsn, plan.from(), plan.to(), result, "the node was not healthy on "
                        + bsn + " " + plan.to() + " within " + config.health_timeout_ms() + " ms (" + String.join("; ", problems)
                        + "), so " + (afterRollback.isEmpty() ? "it was rolled back to " + before.version() + " and is healthy"
                                : "it was rolled back to " + before.version() + ", which is not healthy either ("
                                        + String.join("; ", afterRollback) + "); see the node's log")
                        + ". Fix: correct the bundle and publish a new version", plan, steps.list(), -1, null));
            }
            long healthy = steps.elapsed();
            lastHealthyMillis = healthy;
            RunningVersions.Entry was = upgraded.get(bsn);
            List<RunningVersions.Jar> previousJars = new ArrayList<>();
            previousJars.add(before);
            if (was != null) {
                previousJars.addAll(was.previous());
            }
            record(bsn, new RunningVersions.Entry(was == null ? before : was.distribution(),
                    new RunningVersions.Jar(entry.version().toString(), entry.sha256(), newJar), previousJars));
            audit.write(actor, action, "healthy", "ok", fields("bundle", bsn, "from", plan.from(), "to", plan.to(),
                    "sha256", plan.sha256(), "publisherKey", plan.publisherKey(), "millis", healthy));
            LOG.info("event=upgraded bundle={} from={} to={} refresh={} healthyMillis={}", bsn, plan.from(), plan.to(),
                    plan.refresh().size(), healthy);
            String leak = probe(oldLoader, name(bundle) + " " + plan.from(), steps);
            audit.write(actor, action, "leak-probe", leak.startsWith("leaked") ? "leaked" : leak, fields("bundle", bsn,
                    "version", plan.from(), "detail", leak));
            return finish(actor, new Outcome(action, bsn, plan.from(), plan.to(), "upgraded", bsn + " " + plan.to()
                    + " runs and the node is healthy", plan, steps.list(), healthy, leak));
        } catch (UpgradeException e) {
            String from = bundle == null ? null : bundle.getVersion().toString();
            audit.write(actor, action, "refused", "refused", fields("bundle", bsn, "reason", e.getMessage()));
            LOG.warn("event=upgrade-refused bundle={} reason=\"{}\"", bsn, e.getMessage());
            return finish(actor, new Outcome(action, bsn, from, wanted, "refused", e.getMessage(), plan, steps.list(), -1, null));
        } catch (IOException | RuntimeException e) {
            audit.write(actor, action, "error", "failed", fields("bundle", bsn, "reason", e.toString()));
            LOG.error("event=upgrade-failed bundle={}", bsn, e);
            return finish(actor, new Outcome(action, bsn, bundle == null ? null : bundle.getVersion().toString(), wanted,
                    "failed", "the upgrade failed: " + e + ". Fix: see the node's log; cw rollback returns to the previous"
                            + " version", plan, steps.list(), -1, null));
        }
    }

    /** Returns {@code symbolicName} to the version that ran before its last upgrade. */
    public synchronized Outcome rollback(String actor, String symbolicName) {
        Steps steps = new Steps();
        audit.write(actor, "rollback", "requested", "ok", fields("bundle", symbolicName));
        try {
            Bundle bundle = installed(symbolicName);
            RunningVersions.Entry kept = upgraded.get(symbolicName);
            if (kept == null || kept.previous().isEmpty()) {
                throw new UpgradeException("bundle " + symbolicName + " " + bundle.getVersion() + " has not been upgraded"
                        + " since the node started, so there is no previous version to return to. Fix: cw upgrade "
                        + symbolicName + "@VERSION to install a specific version");
            }
            RunningVersions.Jar target = kept.previous().getFirst();
            byte[] jar = Files.readAllBytes(target.jar());
            if (!hex(Sha256.hash(jar)).equals(target.sha256())) {
                throw new UpgradeException("the kept jar " + target.jar() + " of " + symbolicName + " " + target.version()
                        + " was changed since it ran (sha256 differs). Fix: cw upgrade " + symbolicName + "@" + target.version()
                        + " to fetch it again from the repository");
            }
            RefreshPlan refresh = RefreshPlan.of(bundle, context.getBundle(0).adapt(FrameworkWiring.class));
            refuseUnsafe(bundle, refresh, true);
            String from = bundle.getVersion().toString();
            Outcome.Plan plan = new Outcome.Plan(symbolicName, from, target.version(), target.sha256(), null, "(kept jar)",
                    null, target.jar().toString(), List.of(name(bundle)), names(refresh.refreshSet()),
                    names(refresh.dependents()), names(refresh.beyond()), false, operatorValues(bundle),
                    configurationConflicts(bundle, jar));
            audit.write(actor, "rollback", "planned", "ok", fields("bundle", symbolicName, "from", from, "to", target.version(),
                    "sha256", target.sha256(), "refresh", plan.refresh(), "operatorValuesKept", plan.operatorValuesKept(),
                    "configurationConflicts", plan.configurationConflicts()));
            warnConflicts(symbolicName, plan);
            byte[] running = runningJar(bundle);
            Path runningJar = store(symbolicName, from, hex(Sha256.hash(running)), running);
            WeakReference<ClassLoader> oldLoader = loaderOf(bundle);
            List<String> problems = swap(bundle, jar, refresh, active(refresh), steps);
            if (!problems.isEmpty()) {
                audit.write(actor, "rollback", "health", "failed", fields("bundle", symbolicName, "problems", problems));
                return finish(actor, new Outcome("rollback", symbolicName, from, target.version(), "failed", "the node is not"
                        + " healthy on " + symbolicName + " " + target.version() + " either (" + String.join("; ", problems)
                        + "). Fix: cw upgrade " + symbolicName + "@" + from + " to return to the version that ran", plan,
                        steps.list(), -1, null));
            }
            record(symbolicName, new RunningVersions.Entry(kept.distribution(), target,
                    kept.previous().subList(1, kept.previous().size())));
            long healthy = steps.elapsed();
            audit.write(actor, "rollback", "healthy", "ok", fields("bundle", symbolicName, "from", from, "to", target.version(),
                    "millis", healthy, "replacedJar", runningJar.toString()));
            String leak = probe(oldLoader, symbolicName + " " + from, steps);
            return finish(actor, new Outcome("rollback", symbolicName, from, target.version(), "rolled-back-on-request",
                    symbolicName + " " + target.version() + " runs again and the node is healthy", plan, steps.list(), healthy,
                    leak));
        } catch (UpgradeException e) {
            audit.write(actor, "rollback", "refused", "refused", fields("bundle", symbolicName, "reason", e.getMessage()));
            return finish(actor, new Outcome("rollback", symbolicName, null, null, "refused", e.getMessage(), null,
                    steps.list(), -1, null));
        } catch (IOException | RuntimeException e) {
            audit.write(actor, "rollback", "error", "failed", fields("bundle", symbolicName, "reason", e.toString()));
            LOG.error("event=rollback-failed bundle={}", symbolicName, e);
            return finish(actor, new Outcome("rollback", symbolicName, null, null, "failed", "the rollback failed: " + e,
                    null, steps.list(), -1, null));
        }
    }

    private Outcome finish(String actor, Outcome outcome) {
        counts.computeIfAbsent(outcome.action() + " " + outcome.result(), k -> new AtomicLong()).incrementAndGet();
        history.addFirst(outcome);
        while (history.size() > 100) {
            history.removeLast();
        }
        return outcome;
    }

    private Bundle installed(String bsn) throws UpgradeException {
        List<Bundle> matching = Arrays.stream(context.getBundles()).filter(b -> bsn.equals(b.getSymbolicName())).toList();
        if (matching.isEmpty()) {
            throw new UpgradeException("bundle " + bsn + " is not installed in this node; cw upgrade replaces installed"
                    + " bundles only. Fix: check the name with cw:bundles (or GET /api/node); add a new bundle to the"
                    + " distribution and assemble it");
        }
        if (matching.size() > 1) {
            throw new UpgradeException("bundle " + bsn + " is installed " + matching.size() + " times (versions "
                    + matching.stream().map(b -> b.getVersion().toString()).toList() + "), so which to upgrade is ambiguous."
                    + " Fix: remove the extra version from the distribution");
        }
        return matching.getFirst();
    }

    private TrustRoots trust() throws UpgradeException {
        String file = context.getProperty(TRUST_FILE_PROPERTY);
        if (file == null) {
            throw new UpgradeException("this node has no trust roots (framework property " + TRUST_FILE_PROPERTY + " is not"
                    + " set), so no bundle can be verified. Fix: start the node with cw node from a distribution whose"
                    + " feature names \"trust\" in its commonweal-assembly extension");
        }
        return TrustRoots.read(Path.of(file));
    }

    List<String> repositories() {
        if (config.repositories().length > 0) {
            return List.of(config.repositories());
        }
        String property = context.getProperty(REPOSITORIES_PROPERTY);
        return property == null || property.isBlank() ? List.of() : List.of(property.strip().split("\n"));
    }

    private SignedRepository.Entry choose(String bsn, Version version, TrustRoots trust) throws UpgradeException {
        List<String> repositories = repositories();
        if (repositories.isEmpty()) {
            throw new UpgradeException("this node has no repositories to upgrade from. Fix: set \"repositories\" in the"
                    + " distribution's commonweal-assembly extension, or configuration " + PID + " repositories");
        }
        SignedRepository.Entry best = null;
        List<String> problems = new ArrayList<>();
        for (String location : repositories) {
            try {
                Optional<SignedRepository.Entry> found = new SignedRepository(location, trust).find(bsn, version);
                if (found.isPresent() && (best == null || found.get().version().compareTo(best.version()) > 0)) {
                    best = found.get();
                }
            } catch (UpgradeException e) {
                // A repository that cannot be read or is not trusted contributes nothing; if nothing else has the
                // bundle, its reason is the answer.
                problems.add(e.getMessage());
            }
        }
        if (best == null) {
            if (problems.size() == 1) {
                throw new UpgradeException(problems.getFirst());
            }
            throw new UpgradeException("bundle " + bsn + (version == null ? "" : " " + version) + " is in none of the node's"
                    + " trusted repositories " + repositories + (problems.isEmpty() ? "" : " (" + String.join("; ", problems)
                    + ")") + ". Fix: publish it there (cw repo publish JAR --key KEY --repo DIR), or name a version that is");
        }
        return best;
    }

    /** Refresh sets that would stop the agent itself are refused always; those beyond the dependents without force. */
    private void refuseUnsafe(Bundle bundle, RefreshPlan refresh, boolean force) throws UpgradeException {
        if (refresh.refreshSet().contains(context.getBundle()) || refresh.refreshSet().contains(context.getBundle(0))) {
            throw new UpgradeException("bundle " + name(bundle) + " cannot be upgraded in place: refreshing it would also"
                    + " restart the management agent (" + context.getBundle().getSymbolicName() + " depends on it), which"
                    + " could then neither health-check nor roll back. Refresh set: " + names(refresh.refreshSet())
                    + ". Fix: assemble a distribution with the new version and restart the node");
        }
        if (!refresh.beyond().isEmpty() && !force) {
            throw new UpgradeException("the refresh set of " + name(bundle) + " reaches beyond the bundles that depend on it: "
                    + names(refresh.beyond()) + " would be restarted too. Fix: check that this is what you want, then"
                    + " repeat with --force");
        }
    }

    /** The bundles of the refresh set that run now: each must run again after the swap. */
    private static List<Bundle> active(RefreshPlan refresh) {
        return refresh.refreshSet().stream().filter(b -> b.getState() == Bundle.ACTIVE || b.getState() == Bundle.STARTING)
                .toList();
    }

    /**
     * Update to {@code jar}, refresh what needs it, start again what ran before ({@code active}: a refresh restarts
     * only what was active just before it, and after a failed update a dependent may not have been), wait for health;
     * the problems that remain (empty: healthy).
     */
    private List<String> swap(Bundle bundle, byte[] jar, RefreshPlan refresh, List<Bundle> active, Steps steps) {
        FrameworkWiring wiring = context.getBundle(0).adapt(FrameworkWiring.class);
        try {
            bundle.update(new ByteArrayInputStream(jar));
            steps.add("updated", name(bundle) + " " + bundle.getVersion());
        } catch (BundleException e) {
            // The new revision is installed but did not start (it may not resolve): health says so, rollback follows.
            steps.add("updated", "but it did not start: " + e.getMessage());
        }
        if (wiring.getRemovalPendingBundles().contains(bundle)) {
            CountDownLatch refreshed = new CountDownLatch(1);
            wiring.refreshBundles(refresh.refreshSet(), event -> {
                if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                    refreshed.countDown();
                }
            });
            try {
                if (!refreshed.await(60, TimeUnit.SECONDS)) {
                    return List.of("the refresh of " + names(refresh.refreshSet()) + " did not finish within 60 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return List.of("interrupted during the refresh");
            }
            steps.add("refreshed", names(refresh.refreshSet()).toString());
        } else {
            steps.add("refreshed", "nothing: no bundle was wired to the old revision");
        }
        for (Bundle restart : active) {
            if (restart.getState() != Bundle.ACTIVE && restart.getState() != Bundle.STARTING
                    && restart.getState() != Bundle.UNINSTALLED) {
                try {
                    restart.start();
                    steps.add("started", name(restart) + " " + restart.getVersion());
                } catch (BundleException | IllegalStateException e) {
                    steps.add("not started", name(restart) + ": " + e.getMessage());
                }
            }
        }
        List<String> problems = awaitHealthy();
        steps.add(problems.isEmpty() ? "healthy" : "unhealthy", problems.isEmpty() ? "bundles ACTIVE, components"
                + " satisfied, health checks passing for " + config.health_settle_ms() + " ms" : String.join("; ", problems));
        return problems;
    }

    private List<String> awaitHealthy() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.health_timeout_ms());
        long healthySince = -1;
        List<String> problems = List.of();
        while (true) {
            NodeHealth check = health;
            problems = check == null ? List.of("the node's health service (bundle org.commonweal.node) is not registered")
                    : check.problems();
            long now = System.nanoTime();
            if (problems.isEmpty()) {
                if (healthySince < 0) {
                    healthySince = now;
                }
                if (now - healthySince >= TimeUnit.MILLISECONDS.toNanos(config.health_settle_ms())) {
                    return problems;
                }
            } else {
                healthySince = -1;
            }
            if (now > deadline) {
                return problems.isEmpty() ? List.of("the node did not stay healthy") : problems;
            }
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return List.of("interrupted while waiting for health");
            }
        }
    }

    private static WeakReference<ClassLoader> loaderOf(Bundle bundle) {
        BundleWiring wiring = bundle.adapt(BundleWiring.class);
        return new WeakReference<>(wiring == null ? null : wiring.getClassLoader());
    }

    private String probe(WeakReference<ClassLoader> oldLoader, String what, Steps steps) {
        if (config.leakProbe_timeout_ms() <= 0) {
            return "skipped (leakProbe.timeout.ms is 0)";
        }
        if (oldLoader.refersTo(null)) {
            return "skipped (the old revision had no class loader of its own: a fragment, or it never resolved)";
        }
        // The JDK's record methods may still cache a class of the old revision, softly (see RecordMethodCaches); the
        // refresh listener released them already, but the old revision may have linked a record since (its drain).
        RecordMethodCaches.release();
        String result = LeakProbe.await(oldLoader, config.leakProbe_timeout_ms(), what);
        steps.add("leak probe", result);
        if (result.startsWith("leaked")) {
            counts.computeIfAbsent("leak-probe leaked", k -> new AtomicLong()).incrementAndGet();
            LOG.warn("event=classloader-leak revision=\"{}\" detail=\"{}\"", what, result);
        }
        return result;
    }

    /** The bytes the bundle runs now: the jar this agent installed last, else its install location (a file). */
    private byte[] runningJar(Bundle bundle) throws UpgradeException {
        RunningVersions.Entry entry = upgraded.get(bundle.getSymbolicName());
        Path jar = entry == null ? null : entry.current().jar();
        try {
            if (jar == null) {
                URI location = URI.create(bundle.getLocation());
                if (!"file".equals(location.getScheme())) {
                    throw new UpgradeException("bundle " + name(bundle) + " was installed from " + bundle.getLocation()
                            + ", not a file, so its jar cannot be kept for rollback. Fix: install it from a distribution");
                }
                jar = Path.of(location);
            }
            return Files.readAllBytes(jar);
        } catch (IOException | IllegalArgumentException e) {
            throw new UpgradeException("the running jar of " + name(bundle) + " (" + jar + ") cannot be read to keep it for"
                    + " rollback (" + e.getMessage() + "). Fix: restore the distribution's bundles/ folder");
        }
    }

    private RunningVersions.Jar keep(String bsn, String version, String sha256, byte[] jar) throws IOException {
        return new RunningVersions.Jar(version, sha256, store(bsn, version, sha256, jar));
    }

    /** What runs now, in memory and in running.json (the launcher installs it again at the next start). */
    private void record(String bsn, RunningVersions.Entry entry) throws IOException {
        upgraded.put(bsn, new RunningVersions.Entry(entry.distribution(), entry.current(), List.copyOf(entry.previous())));
        runningVersions.write(upgraded);
    }

    /** {@code <data>/management/jars/<bsn>/<version>-<sha256 prefix>.jar}, written once. */
    private Path store(String bsn, String version, String sha256, byte[] jar) throws IOException {
        Path file = directory.resolve("jars").resolve(bsn).resolve(version + "-" + sha256.substring(0, 16) + ".jar");
        if (!Files.exists(file)) {
            Files.createDirectories(file.getParent());
            Path temp = Files.createTempFile(file.getParent(), "incoming", ".jar");
            Files.write(temp, jar);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
        }
        return file;
    }

    private static String name(Bundle bundle) {
        return bundle.getSymbolicName();
    }

    private static List<String> names(List<Bundle> bundles) {
        return bundles.stream().map(b -> b.getSymbolicName() + " " + b.getVersion()).toList();
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    private static Map<String, Object> fields(Object... pairs) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put((String) pairs[i], pairs[i + 1]);
        }
        return map;
    }

    /** Steps of one operation, each with its time since the request. */
    private static final class Steps {
        private final long start;
        private final List<Outcome.Step> steps;
        private final String prefix;

        Steps() {
            this(new ArrayList<>(), "", System.nanoTime());
        }

        private Steps(List<Outcome.Step> steps, String prefix, long start) {
            this.steps = steps;
            this.prefix = prefix;
            this.start = start;
        }

        /** The same steps, named with a prefix (the rollback's after the upgrade's). */
        Steps prefixed(String prefix) {
            return new Steps(steps, prefix, start);
        }

        void add(String name, String detail) {
            steps.add(new Outcome.Step(prefix + name, elapsed(), detail));
        }

        long elapsed() {
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        }

        List<Outcome.Step> list() {
            return List.copyOf(steps);
        }
    }
}
