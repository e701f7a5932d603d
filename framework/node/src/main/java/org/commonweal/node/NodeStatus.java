package org.commonweal.node;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.commonweal.node.api.HealthCheck;
import org.commonweal.node.api.NodeHealth;
import org.commonweal.node.api.NodeIdentity;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

/**
 * What the node is and whether it is healthy; shared by {@code GET /api/node}, {@code GET /health}
 * and the {@code cw:} shell commands so that they always agree.
 * <p>
 * Healthy means: every bundle ACTIVE (a fragment: RESOLVED), every enabled Declarative Services
 * component satisfied, and every registered {@link HealthCheck} healthy.
 */
@Component(service = { NodeStatus.class, NodeHealth.class })
public final class NodeStatus implements NodeHealth {

    /** Framework properties the launcher sets from the distribution's feature file. */
    static final String DISTRIBUTION_NAME = "commonweal.distribution.name";
    static final String DISTRIBUTION_VERSION = "commonweal.distribution.version";

    private final BundleContext context;
    private final NodeIdentity identity;
    private final ServiceComponentRuntime scr;
    private final BundleDigests digests = new BundleDigests();
    private final List<HealthCheck> checks = new CopyOnWriteArrayList<>();

    @Activate
    public NodeStatus(BundleContext context, @Reference(name = "identity") NodeIdentity identity,
            @Reference(name = "scr") ServiceComponentRuntime scr) {
        this.context = context;
        this.identity = identity;
        this.scr = scr;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addCheck(HealthCheck check) {
        checks.add(check);
    }

    void removeCheck(HealthCheck check) {
        checks.remove(check);
    }

    public record Distribution(String name, String version) {
    }

    public record BundleInfo(long id, String symbolicName, String version, String state, String location, String sha256) {
    }

    public record NodeInfo(String nodeId, Distribution distribution, String startedAt, long uptimeMillis,
            List<BundleInfo> bundles) {
    }

    public record CheckResult(String name, boolean healthy, String detail) {
    }

    public record Health(boolean healthy, List<String> problems, List<CheckResult> checks) {
    }

    public NodeInfo info() {
        long startMillis = ManagementFactory.getRuntimeMXBean().getStartTime();
        List<BundleInfo> bundles = new ArrayList<>();
        for (Bundle bundle : context.getBundles()) {
            bundles.add(new BundleInfo(bundle.getBundleId(), bundle.getSymbolicName(), bundle.getVersion().toString(),
                    stateName(bundle.getState()), bundle.getLocation(), digests.sha256(bundle)));
        }
        return new NodeInfo(identity.id(),
                new Distribution(context.getProperty(DISTRIBUTION_NAME), context.getProperty(DISTRIBUTION_VERSION)),
                Instant.ofEpochMilli(startMillis).toString(), Duration.ofMillis(System.currentTimeMillis() - startMillis).toMillis(),
                bundles);
    }

    @Override
    public List<String> problems() {
        return health().problems();
    }

    public Health health() {
        List<String> problems = new ArrayList<>();
        for (Bundle bundle : context.getBundles()) {
            if (!isUp(bundle)) {
                problems.add("bundle " + bundle.getSymbolicName() + " " + bundle.getVersion() + " is "
                        + stateName(bundle.getState()) + ", not ACTIVE");
            }
        }
        for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs()) {
            if (scr.isComponentEnabled(description)) {
                for (ComponentConfigurationDTO configuration : scr.getComponentConfigurationDTOs(description)) {
                    String problem = componentProblem(description, configuration);
                    if (problem != null) {
                        problems.add(problem);
                    }
                }
            }
        }
        List<CheckResult> results = new ArrayList<>();
        for (HealthCheck check : checks) {
            CheckResult result = run(check);
            results.add(result);
            if (!result.healthy()) {
                problems.add("check '" + result.name() + "': " + result.detail());
            }
        }
        return new Health(problems.isEmpty(), problems, results);
    }

    private static boolean isUp(Bundle bundle) {
        boolean fragment = (bundle.adapt(BundleRevision.class).getTypes() & BundleRevision.TYPE_FRAGMENT) != 0;
        return bundle.getState() == Bundle.ACTIVE || (fragment && bundle.getState() == Bundle.RESOLVED);
    }

    private static String componentProblem(ComponentDescriptionDTO description, ComponentConfigurationDTO configuration) {
        String component = "component " + description.name + " (bundle " + description.bundle.symbolicName + ")";
        return switch (configuration.state) {
            case ComponentConfigurationDTO.UNSATISFIED_REFERENCE -> component + " is missing "
                    + String.join(", ", Arrays.stream(configuration.unsatisfiedReferences)
                            .map(reference -> describe(description, reference)).toList());
            case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION -> component + " is waiting for its configuration (PID "
                    + String.join(", ", description.configurationPid) + ")";
            case ComponentConfigurationDTO.FAILED_ACTIVATION -> component + " failed to activate: "
                    + firstLine(configuration.failure);
            default -> null;
        };
    }

    private static String describe(ComponentDescriptionDTO description, UnsatisfiedReferenceDTO reference) {
        String service = Arrays.stream(description.references).filter(r -> r.name.equals(reference.name))
                .map(r -> r.interfaceName).findFirst().orElse("?");
        return "reference '" + reference.name + "' to a " + service + " service"
                + (reference.target == null ? "" : " matching " + reference.target);
    }

    private static CheckResult run(HealthCheck check) {
        try {
            HealthCheck.Result result = check.check();
            return new CheckResult(check.name(), result.healthy(), result.detail());
        } catch (RuntimeException e) {
            return new CheckResult(check.getClass().getName(), false, "the check itself failed: " + e);
        }
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "(no reason given)";
        }
        int end = text.indexOf('\n');
        return end < 0 ? text : text.substring(0, end).strip();
    }

    static String stateName(int state) {
        return switch (state) {
            case Bundle.UNINSTALLED -> "UNINSTALLED";
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.ACTIVE -> "ACTIVE";
            default -> "UNKNOWN(" + state + ")";
        };
    }
}
