package org.commonweal.launcher;

import java.io.PrintStream;
import java.net.http.HttpClient;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * A running node: an embedded Felix booted from a {@link Distribution}.
 * <p>
 * Start-up, in order: check the JVM flags; read the distribution; lock the data directory; check the
 * HTTP port is free; install every bundle; resolve them all (a failure is explained root cause
 * first, see {@link ResolutionReport}); start ConfigAdmin alone (start level 1) and apply the
 * distribution's configurations; start everything else (start level 2); wait until the HTTP server
 * listens and {@code /health} answers 200. Any failure stops the framework before it is reported, so
 * nothing is left running.
 */
public final class Node implements AutoCloseable {

    /** How a node is started. {@code port} and {@code shell} override the distribution when set. */
    public record Options(Path distribution, Path dataDirectory, Integer port, boolean shell, Map<String, String> properties) {
        public Options {
            properties = Map.copyOf(properties);
        }

        public Options(Path distribution, Path dataDirectory, Integer port) {
            this(distribution, dataDirectory, port, false, Map.of());
        }
    }

    /** Framework properties the launcher sets for the bundles (read by org.commonweal.node). */
    public static final String DATA_DIR_PROPERTY = "commonweal.data.dir";
    public static final String DISTRIBUTION_NAME_PROPERTY = "commonweal.distribution.name";
    public static final String DISTRIBUTION_VERSION_PROPERTY = "commonweal.distribution.version";

    static final String HTTP_PID = "org.apache.felix.http";
    private static final int CONFIG_START_LEVEL = 1;
    private static final int BUNDLE_START_LEVEL = 2;
    private static final long READY_TIMEOUT_MS = Long.getLong("commonweal.ready.timeout.ms", 30_000);

    private final Framework framework;
    private final Distribution distribution;
    private final DataDirectory dataDirectory;
    private final HttpEndpoint endpoint;

    private Node(Framework framework, Distribution distribution, DataDirectory dataDirectory, HttpEndpoint endpoint) {
        this.framework = framework;
        this.distribution = distribution;
        this.dataDirectory = dataDirectory;
        this.endpoint = endpoint;
    }

    /**
     * What a node runs with, derived from the distribution, the data directory and the options, and
     * shared with the itests so that they boot exactly what {@code cw node} boots.
     *
     * @param distribution        the distribution
     * @param frameworkProperties framework.properties, then the feature's, then the launcher's own
     * @param configurations      the feature's configurations, with the options' overrides
     * @param endpoint            where the HTTP server will listen
     */
    public record Plan(Distribution distribution, Map<String, String> frameworkProperties,
            Map<String, Map<String, Object>> configurations, HttpEndpoint endpoint) {

        public static Plan of(Distribution distribution, Options options, Path dataDirectory) throws LaunchException {
            // Layers: the distribution's configurations, the operator's (<data>/config/operator.json), then --port.
            Map<String, Map<String, Object>> configurations = new LinkedHashMap<>(distribution.configurations());
            ConfigurationLayers.apply(configurations, options.port() == null ? Map.of()
                    : Map.of(HTTP_PID, Map.of(HttpEndpoint.PORT_PROPERTY, options.port())), dataDirectory);
            // The HTTP server always gets a configuration (it waits for one: org.apache.felix.http.require.config).
            Map<String, Object> http = new LinkedHashMap<>(configurations.getOrDefault(HTTP_PID, Map.of()));
            configurations.put(HTTP_PID, http);

            Map<String, String> properties = new LinkedHashMap<>(RuntimeSettings.frameworkProperties());
            properties.putAll(distribution.frameworkProperties());
            properties.putAll(options.properties());
            HttpEndpoint endpoint = new HttpEndpoint(
                    String.valueOf(http.getOrDefault(HttpEndpoint.HOST_PROPERTY,
                            properties.getOrDefault(HttpEndpoint.HOST_PROPERTY, "127.0.0.1"))),
                    port(http.getOrDefault(HttpEndpoint.PORT_PROPERTY,
                            properties.getOrDefault(HttpEndpoint.PORT_PROPERTY, "8080"))));
            // The address as framework properties too: where they, not ConfigAdmin, are read (itests, tools).
            properties.put(HttpEndpoint.HOST_PROPERTY, endpoint.host());
            properties.put(HttpEndpoint.PORT_PROPERTY, Integer.toString(endpoint.port()));
            properties.put(Constants.FRAMEWORK_STORAGE, dataDirectory.resolve("framework").toString());
            properties.put(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, Integer.toString(CONFIG_START_LEVEL));
            properties.put(DATA_DIR_PROPERTY, dataDirectory.toString());
            properties.put(DISTRIBUTION_NAME_PROPERTY, distribution.name());
            properties.put(DISTRIBUTION_VERSION_PROPERTY, distribution.version());
            if (options.shell()) {
                properties.put("gosh.args", "");
            }
            properties.putAll(managementProperties(distribution, dataDirectory));
            return new Plan(distribution, Map.copyOf(properties), Map.copyOf(configurations), endpoint);
        }
    }

    /** Framework properties through which the management agent hears of the distribution's trust and repositories. */
    public static final String TRUST_FILE_PROPERTY = "commonweal.trust.file";
    public static final String REPOSITORIES_PROPERTY = "commonweal.repositories";

    /**
     * The distribution's trust roots, written to {@code <data>/management/trust.json} with every key in hex (the
     * agent inside the node reads it; it has no bndlib to read feature files and key files itself), and its
     * repositories as absolute paths or URLs. Relative paths are the feature's own: for a Maven-built distribution
     * ({@code distributions/NAME/target/dist}) they are relative to {@code distributions/NAME}. A distribution
     * without trust roots gets neither property, and the agent refuses upgrades saying so.
     */
    static Map<String, String> managementProperties(Distribution distribution, Path dataDirectory) throws LaunchException {
        Path source = distribution.directory().toAbsolutePath().normalize();
        if (source.endsWith(Path.of("target", "dist"))
                && Files.isRegularFile(source.getParent().getParent().resolve(Distribution.FEATURE_FILE))) {
            source = source.getParent().getParent();
        }
        Assembler.Source assembly;
        try {
            assembly = Assembler.source(source);
        } catch (LaunchException | org.commonweal.repo.RepositoryException e) {
            return Map.of();
        }
        Path trust = dataDirectory.toAbsolutePath().resolve("management").resolve("trust.json");
        try {
            Files.createDirectories(trust.getParent());
            Files.writeString(trust, assembly.trust().toJson().toString());
        } catch (java.io.IOException e) {
            throw new LaunchException("cannot write " + trust + " (" + e.getMessage() + "). Fix: make the data directory"
                    + " writable", e);
        }
        List<String> repositories = new ArrayList<>();
        for (String repository : assembly.repositories()) {
            repositories.add(repository.startsWith("http://") || repository.startsWith("https://") ? repository
                    : source.resolve(repository).normalize().toString());
        }
        return Map.of(TRUST_FILE_PROPERTY, trust.toString(), REPOSITORIES_PROPERTY, String.join("\n", repositories));
    }

    public static Node start(Options options, PrintStream progress) throws LaunchException {
        RuntimeSettings.checkJvm();
        Distribution distribution = Distribution.load(options.distribution());
        Assembler.verifyAssembled(distribution);
        warnAboutUnlistedJars(distribution, progress);
        DataDirectory data = DataDirectory.open(options.dataDirectory());
        Framework framework = null;
        try {
            Plan plan = Plan.of(distribution, options, data.path());
            plan.endpoint().checkFree();

            long started = System.nanoTime();
            List<KeptUpgrades.KeptUpgrade> kept = KeptUpgrades.read(distribution, data.path(), progress);
            Map<String, String> properties = new LinkedHashMap<>(plan.frameworkProperties());
            properties.put(KeptUpgrades.REINSTALLED_PROPERTY,
                    String.join(",", kept.stream().map(KeptUpgrades.KeptUpgrade::symbolicName).toList()));
            framework = ServiceLoader.load(FrameworkFactory.class).findFirst()
                    .orElseThrow(() -> new LaunchException("no OSGi framework on the class path; rebuild with ./mvnw install"))
                    .newFramework(properties);
            framework.init();
            List<Bundle> bundles = install(framework.getBundleContext(), plan.distribution());
            reinstallKeptUpgrades(bundles, kept, progress);
            resolve(framework, bundles, plan.distribution());
            framework.start();
            Configurations.apply(framework.getBundleContext(), plan.configurations());
            startAll(framework, bundles);
            Node node = new Node(framework, plan.distribution(), data, plan.endpoint());
            node.awaitReady(progress, started);
            return node;
        } catch (LaunchException | RuntimeException e) {
            stopQuietly(framework);
            data.close();
            throw e;
        } catch (BundleException e) {
            stopQuietly(framework);
            data.close();
            throw new LaunchException("the OSGi framework failed to start: " + e.getMessage(), e);
        }
    }

    private static void warnAboutUnlistedJars(Distribution distribution, PrintStream progress) {
        try {
            for (Path jar : distribution.unlistedJars()) {
                progress.println("warning: " + jar + " is not named by " + distribution.featureFile()
                        + ", so it is not installed; add it to the feature or delete it");
            }
        } catch (java.io.IOException e) {
            progress.println("warning: cannot list " + distribution.directory().resolve(Distribution.BUNDLES_DIR) + ": " + e);
        }
    }

    /** Blocks until the framework has stopped (by {@link #close()}, a signal, or the shell's exit). */
    public void awaitStop() throws InterruptedException {
        framework.waitForStop(0);
        dataDirectory.close();
    }

    /** Stops the framework and waits up to 30 s for every bundle to stop. */
    @Override
    public void close() {
        stopQuietly(framework);
        dataDirectory.close();
    }

    private static List<Bundle> install(BundleContext context, Distribution distribution) throws LaunchException {
        List<Bundle> bundles = new ArrayList<>();
        for (Distribution.BundleArtifact artifact : distribution.bundles()) {
            try {
                Bundle bundle = context.installBundle(artifact.jar().toUri().toString());
                boolean configAdmin = Configurations.provides(bundle.adapt(BundleRevision.class));
                bundle.adapt(BundleStartLevel.class).setStartLevel(configAdmin ? CONFIG_START_LEVEL : BUNDLE_START_LEVEL);
                if (configAdmin) {
                    bundle.start(); // marked now, started with the framework, before the other bundles
                }
                bundles.add(bundle);
            } catch (BundleException e) {
                throw new LaunchException("bundle " + artifact.id() + " (" + artifact.jar() + ") cannot be installed: "
                        + e.getMessage() + ". Fix: replace it with a valid OSGi bundle, or remove it from "
                        + distribution.featureFile(), e);
            }
        }
        return bundles;
    }

    /** Each kept upgrade replaces, before anything resolves, the distribution jar it replaced in the running node. */
    private static void reinstallKeptUpgrades(List<Bundle> bundles, List<KeptUpgrades.KeptUpgrade> kept, PrintStream progress)
            throws LaunchException {
        for (KeptUpgrades.KeptUpgrade upgrade : kept) {
            String location = upgrade.distributionJar().toUri().toString();
            for (Bundle bundle : bundles) {
                if (bundle.getLocation().equals(location)) {
                    try (java.io.InputStream in = Files.newInputStream(upgrade.keptJar())) {
                        bundle.update(in);
                        progress.println("upgraded earlier with cw upgrade: " + upgrade.symbolicName() + " "
                                + upgrade.version() + " (" + upgrade.keptJar() + ")");
                    } catch (java.io.IOException | BundleException e) {
                        throw new LaunchException("the kept upgrade " + upgrade.symbolicName() + " " + upgrade.version() + " ("
                                + upgrade.keptJar() + ") cannot be installed: " + e.getMessage() + ". Fix: cw rollback it on"
                                + " a running node, or delete <data>/management/running.json to run the distribution's", e);
                    }
                }
            }
        }
    }

    private static void resolve(Framework framework, List<Bundle> bundles, Distribution distribution) throws LaunchException {
        FrameworkWiring wiring = framework.adapt(FrameworkWiring.class);
        if (wiring.resolveBundles(bundles)) {
            return;
        }
        List<Bundle> unresolved = bundles.stream().filter(b -> b.getState() == Bundle.INSTALLED).toList();
        ResolutionReport report = ResolutionReport.of(unresolved, wiring);
        String explanation = report.describe(distribution.featureFile());
        if (report.missing().isEmpty()) {
            explanation += "\n  The framework says: " + frameworkSays(unresolved.getFirst());
        }
        throw new LaunchException("distribution " + distribution.name() + " cannot start: " + explanation);
    }

    /** The framework's own account of why a bundle does not resolve (the exception from starting it). */
    private static String frameworkSays(Bundle bundle) {
        try {
            bundle.start(Bundle.START_TRANSIENT);
            bundle.stop(Bundle.STOP_TRANSIENT);
            return "(it resolved on a second try)";
        } catch (BundleException e) {
            return e.getMessage();
        }
    }

    private static void startAll(Framework framework, List<Bundle> bundles) throws LaunchException, BundleException {
        Map<Bundle, Throwable> failures = new LinkedHashMap<>();
        FrameworkListener errors = event -> {
            if (event.getType() == FrameworkEvent.ERROR && event.getBundle() != null) {
                failures.putIfAbsent(event.getBundle(), event.getThrowable());
            }
        };
        BundleContext context = framework.getBundleContext();
        context.addFrameworkListener(errors);
        try {
            for (Bundle bundle : bundles) {
                if (!isFragment(bundle)) {
                    bundle.start();
                }
            }
            CountDownLatch reached = new CountDownLatch(1);
            framework.adapt(FrameworkStartLevel.class).setStartLevel(BUNDLE_START_LEVEL, event -> reached.countDown());
            if (!reached.await(READY_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                throw new LaunchException("bundles did not finish starting within " + READY_TIMEOUT_MS + " ms; a bundle's"
                        + " start method is blocked (a thread dump, jstack <pid>, shows which)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while starting bundles", e);
        } finally {
            context.removeFrameworkListener(errors);
        }
        List<String> notStarted = new ArrayList<>();
        for (Bundle bundle : bundles) {
            if (!isFragment(bundle) && bundle.getState() != Bundle.ACTIVE) {
                Throwable failure = failures.get(bundle);
                notStarted.add(ResolutionReport.name(bundle) + ": " + (failure == null ? "state " + bundle.getState()
                        : rootMessage(failure)));
            }
        }
        if (!notStarted.isEmpty()) {
            throw new LaunchException("bundles failed to start:\n  " + String.join("\n  ", notStarted)
                    + "\n  Fix: see the bundle's log above; replace or remove the bundle in the distribution");
        }
    }

    private void awaitReady(PrintStream progress, long startedNanos) throws LaunchException {
        long deadline = System.currentTimeMillis() + READY_TIMEOUT_MS;
        while (!httpListening()) {
            checkRunning();
            if (System.currentTimeMillis() > deadline) {
                throw new LaunchException("the HTTP server did not start on " + endpoint.host() + ":" + endpoint.port()
                        + " within " + READY_TIMEOUT_MS + " ms; see the log above for Jetty's reason");
            }
            sleep(20);
        }
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            HttpEndpoint.Reply health = endpoint.get(client, "/health");
            while (health.status() != 200) {
                checkRunning();
                if (System.currentTimeMillis() > deadline) {
                    throw new LaunchException("the node started but is not healthy after " + READY_TIMEOUT_MS + " ms: GET "
                            + endpoint.uri("/health") + " answered " + health.status() + "\n" + health.body());
                }
                sleep(50);
                health = endpoint.get(client, "/health");
            }
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
        progress.printf("Commonweal node ready: distribution %s %s, %d bundles, healthy in %d ms%n  %s  (node: %s)%n",
                distribution.name(), distribution.version(), distribution.bundles().size(), millis,
                endpoint.uri("/health"), endpoint.uri("/api/node"));
    }

    /**
     * Fails at once if the framework stopped while the node started (its shell was closed, or a stop was asked for),
     * rather than waiting out the ready timeout for a health check that can no longer answer.
     */
    private void checkRunning() throws LaunchException {
        if (framework.getState() != Bundle.ACTIVE) {
            throw new LaunchException("the node stopped before it was ready (its shell was closed, or it was asked to"
                    + " stop); nothing to fix if that was meant, otherwise see the log above");
        }
    }

    /** Felix's HTTP bundle registers its runtime service with an endpoint only once Jetty listens. */
    private boolean httpListening() {
        try {
            var references = framework.getBundleContext().getAllServiceReferences(
                    "org.osgi.service.servlet.runtime.HttpServiceRuntime", "(osgi.http.endpoint=*)");
            return references != null && references.length > 0;
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isFragment(Bundle bundle) {
        return (bundle.adapt(BundleRevision.class).getTypes() & BundleRevision.TYPE_FRAGMENT) != 0;
    }

    private static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == failure ? String.valueOf(failure.getMessage()) : failure.getMessage() + " (caused by " + root + ")";
    }

    private static int port(Object value) throws LaunchException {
        try {
            int port = value instanceof Number number ? number.intValue() : Integer.parseInt(String.valueOf(value).strip());
            if (port < 1 || port > 65_535) {
                throw new NumberFormatException("out of range");
            }
            return port;
        } catch (NumberFormatException e) {
            throw new LaunchException("HTTP port '" + value + "' is not a port number (1-65535). Fix: --port N, or set "
                    + HttpEndpoint.PORT_PROPERTY + " in the distribution's " + HTTP_PID + " configuration");
        }
    }

    private static void sleep(long millis) throws LaunchException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while waiting for the node to be ready", e);
        }
    }

    private static void stopQuietly(Framework framework) {
        if (framework == null) {
            return;
        }
        try {
            framework.stop();
            framework.waitForStop(30_000);
        } catch (BundleException | InterruptedException | RuntimeException e) {
            System.err.println("warning: the framework did not stop cleanly: " + e);
        }
    }
}
