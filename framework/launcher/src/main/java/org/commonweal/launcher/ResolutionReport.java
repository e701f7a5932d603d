package org.commonweal.launcher;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.commonweal.repo.RequirementText;
import org.osgi.framework.Bundle;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.resource.Namespace;
import org.osgi.resource.Requirement;

/**
 * Why bundles did not resolve, root cause first: the requirements that NO bundle in the framework
 * can satisfy, and which bundles need them; then the bundles that fail only because they depend on
 * one of those. (The framework's own message is a nested chain that buries the one missing piece.)
 */
final class ResolutionReport {

    /** A requirement nothing provides, and the bundle that declares it. */
    record Missing(Bundle bundle, Requirement requirement) {
    }

    /** A bundle that cannot resolve only because bundles it needs cannot. */
    record Blocked(Bundle bundle, Set<Bundle> waitsFor) {
    }

    private final List<Missing> missing = new ArrayList<>();
    private final List<Blocked> blocked = new ArrayList<>();

    static ResolutionReport of(Collection<Bundle> unresolved, FrameworkWiring wiring) {
        ResolutionReport report = new ResolutionReport();
        for (Bundle bundle : unresolved) {
            BundleRevision revision = bundle.adapt(BundleRevision.class);
            Set<Bundle> waitsFor = new LinkedHashSet<>();
            boolean rootCause = false;
            for (BundleRequirement requirement : revision.getDeclaredRequirements(null)) {
                if (!mandatoryAtResolve(requirement)) {
                    continue;
                }
                Collection<BundleCapability> providers = wiring.findProviders(requirement);
                if (providers.isEmpty()) {
                    report.missing.add(new Missing(bundle, requirement));
                    rootCause = true;
                } else if (providers.stream().allMatch(c -> unresolved.contains(c.getRevision().getBundle()))) {
                    providers.forEach(c -> waitsFor.add(c.getRevision().getBundle()));
                }
            }
            waitsFor.remove(bundle);
            if (!rootCause && !waitsFor.isEmpty()) {
                report.blocked.add(new Blocked(bundle, waitsFor));
            }
        }
        return report;
    }

    List<Missing> missing() {
        return missing;
    }

    List<Blocked> blocked() {
        return blocked;
    }

    /** The report as a person reads it; {@code featureFile} is where the fix goes. */
    String describe(Object featureFile) {
        StringBuilder out = new StringBuilder();
        if (missing.isEmpty()) {
            out.append("bundles cannot resolve, though every requirement has a provider (a version or uses conflict):");
        } else {
            out.append(missing.size() == 1 ? "a bundle needs something" : missing.size() + " requirements name things")
                    .append(" that no bundle in the distribution provides:");
        }
        for (Missing m : missing) {
            out.append("\n  ").append(name(m.bundle())).append(" needs ").append(describe(m.requirement()));
        }
        if (!missing.isEmpty()) {
            out.append("\n  Fix: add a bundle that provides ").append(missing.size() == 1 ? "it" : "them").append(" to ")
                    .append(featureFile).append(", or remove the bundle that needs ")
                    .append(missing.size() == 1 ? "it" : "them").append('.');
        }
        if (!blocked.isEmpty()) {
            out.append("\n  Not started because of that:");
            for (Blocked b : blocked) {
                out.append("\n    ").append(name(b.bundle())).append(" (needs ")
                        .append(String.join(", ", b.waitsFor().stream().map(Bundle::getSymbolicName).toList())).append(')');
            }
        }
        return out.toString();
    }

    static String name(Bundle bundle) {
        return "bundle " + bundle.getSymbolicName() + " " + bundle.getVersion();
    }

    private static boolean mandatoryAtResolve(Requirement requirement) {
        Map<String, String> directives = requirement.getDirectives();
        String resolution = directives.get(Namespace.REQUIREMENT_RESOLUTION_DIRECTIVE);
        String effective = directives.getOrDefault(Namespace.REQUIREMENT_EFFECTIVE_DIRECTIVE, Namespace.EFFECTIVE_RESOLVE);
        return !Namespace.RESOLUTION_OPTIONAL.equals(resolution) && !"dynamic".equals(resolution)
                && Namespace.EFFECTIVE_RESOLVE.equals(effective);
    }

    /** "package org.foo [1.0.0,2.0.0)", "service org.foo.Bar", "execution environment JavaSE 25", ... */
    static String describe(Requirement requirement) {
        return RequirementText.of(requirement);
    }
}
