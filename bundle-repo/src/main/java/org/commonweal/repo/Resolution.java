package org.commonweal.repo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.resolver.Logger;
import org.apache.felix.resolver.ResolverImpl;
import org.osgi.framework.Version;
import org.osgi.framework.VersionRange;
import org.osgi.resource.Capability;
import org.osgi.resource.Namespace;
import org.osgi.resource.Requirement;
import org.osgi.resource.Resource;
import org.osgi.resource.Wire;
import org.osgi.resource.Wiring;
import org.osgi.service.resolver.HostedCapability;
import org.osgi.service.resolver.ResolutionException;
import org.osgi.service.resolver.ResolveContext;

import aQute.bnd.osgi.resource.CapReqBuilder;
import aQute.bnd.osgi.resource.RequirementBuilder;
import aQute.bnd.osgi.resource.ResourceBuilder;
import aQute.bnd.osgi.resource.ResourceUtils;

/**
 * Which bundles a distribution needs, chosen by the OSGi resolver (Felix's, the one that will wire them at run time)
 * from a repository index and the framework's own capabilities. Where several bundles could serve a requirement the
 * highest version is preferred. Optional requirements never pull a bundle in (as with bnd's resolver): a bundle a
 * distribution wants only optionally must be named. A failure names its root cause first: the requirement nothing can satisfy, who needs it
 * (the chain from the distribution), and each candidate with why it does not fit.
 */
public final class Resolution {

    /** A requirement of the distribution, and what it means to a person ("the bundle org.example:x:1.0"). */
    public record Need(Requirement requirement, String description) {

        /** A need for the bundle a feature names by Maven id. */
        public static Need bundle(String mavenId) {
            return of(RepositoryIndex.ARTIFACT_NAMESPACE, "(" + RepositoryIndex.ARTIFACT_NAMESPACE + "=" + mavenId + ")",
                    "bundle " + mavenId);
        }

        public static Need of(String namespace, String filter, String description) {
            RequirementBuilder builder = new RequirementBuilder(namespace);
            builder.addDirective(Namespace.REQUIREMENT_FILTER_DIRECTIVE, filter);
            return new Need(builder.buildSyntheticRequirement(), description);
        }
    }

    /** Why a bundle is in: the requirements it satisfies, each with who states it. */
    public record Reason(String requirer, String requirement) {
    }

    private final List<Artifact> artifacts;
    private final Map<Artifact, List<Reason>> reasons;

    private Resolution(List<Artifact> artifacts, Map<Artifact, List<Reason>> reasons) {
        this.artifacts = artifacts;
        this.reasons = reasons;
    }

    /** The chosen bundles: those the needs name, in their order, then the rest by symbolic name. */
    public List<Artifact> artifacts() {
        return artifacts;
    }

    /** Why {@code artifact} is in. */
    public List<Reason> reasons(Artifact artifact) {
        return reasons.getOrDefault(artifact, List.of());
    }

    public static Resolution resolve(String distribution, RepositoryIndex index, Resource framework, List<Need> needs)
            throws RepositoryException {
        Context context = new Context(distribution, index, framework, needs);
        Map<Resource, List<Wire>> wiring;
        try {
            wiring = new ResolverImpl(new Logger(Logger.LOG_ERROR), 1).resolve(context);
        } catch (ResolutionException e) {
            throw new RepositoryException(context.explain(e));
        }
        Map<Resource, Artifact> byResource = new IdentityHashMap<>();
        index.artifacts().forEach(a -> byResource.put(a.resource(), a));
        Map<Artifact, List<Reason>> reasons = new LinkedHashMap<>();
        Set<Artifact> ordered = new LinkedHashSet<>();
        for (Wire wire : wiring.getOrDefault(context.root, List.of())) {
            Artifact provider = byResource.get(wire.getProvider());
            if (provider != null) {
                ordered.add(provider);
            }
        }
        List<Artifact> rest = new ArrayList<>();
        for (Map.Entry<Resource, List<Wire>> entry : wiring.entrySet()) {
            Artifact artifact = byResource.get(entry.getKey());
            if (artifact != null && !ordered.contains(artifact)) {
                rest.add(artifact);
            }
            for (Wire wire : entry.getValue()) {
                Artifact provider = byResource.get(wire.getProvider());
                if (provider != null && provider != artifact) {
                    String requirer = entry.getKey() == context.root ? "distribution " + distribution
                            : "bundle " + byResource.get(entry.getKey()).name();
                    String requirement = entry.getKey() == context.root ? context.describe(wire.getRequirement())
                            : RequirementText.of(wire.getRequirement());
                    reasons.computeIfAbsent(provider, a -> new ArrayList<>()).add(new Reason(requirer, requirement));
                }
            }
        }
        rest.sort(Comparator.comparing(Artifact::symbolicName).thenComparing(Artifact::version));
        ordered.addAll(rest);
        reasons.values().forEach(list -> list.sort(Comparator.comparing(Reason::requirer).thenComparing(Reason::requirement)));
        return new Resolution(List.copyOf(ordered), reasons);
    }

    /**
     * The index's capabilities by namespace and by the value of the namespace's own attribute (a package name, an
     * extender name, ...), so that a requirement whose filter names that value is matched against its few
     * candidates, not against every capability of a repository that many publishers share.
     */
    static final class CapabilityIndex {

        private final Map<String, List<Capability>> byNamespace = new HashMap<>();
        private final Map<String, Map<String, List<Capability>>> byName = new HashMap<>();

        CapabilityIndex(RepositoryIndex index) {
            for (Artifact artifact : index.artifacts()) {
                for (Capability capability : artifact.resource().getCapabilities(null)) {
                    String namespace = capability.getNamespace();
                    byNamespace.computeIfAbsent(namespace, n -> new ArrayList<>()).add(capability);
                    Object name = capability.getAttributes().get(namespace);
                    Map<String, List<Capability>> names = byName.computeIfAbsent(namespace, n -> new HashMap<>());
                    if (name instanceof Collection<?> values) {
                        values.forEach(v -> names.computeIfAbsent(String.valueOf(v), v2 -> new ArrayList<>()).add(capability));
                    } else if (name != null) {
                        names.computeIfAbsent(String.valueOf(name), n -> new ArrayList<>()).add(capability);
                    }
                }
            }
        }

        /** Capabilities that may match (a superset of those that do). */
        List<Capability> candidates(Requirement requirement) {
            String namespace = requirement.getNamespace();
            String filter = requirement.getDirectives().get(Namespace.REQUIREMENT_FILTER_DIRECTIVE);
            if (filter != null) {
                // Only a filter that is a plain (ns=value) or an (&...) with that term at top level pins the name;
                // an (|...) or a (!...) around it does not.
                Matcher m = Pattern.compile("^\\((?:&\\()?" + Pattern.quote(namespace) + "=([^*()\\\\]+)\\)").matcher(filter);
                if (m.find()) {
                    return byName.getOrDefault(namespace, Map.of()).getOrDefault(m.group(1), List.of());
                }
            }
            return byNamespace.getOrDefault(namespace, List.of());
        }
    }

    /** The resolver's view of one distribution: the index, the framework, and a root resource holding the needs. */
    static final class Context extends ResolveContext {

        final String distribution;
        final RepositoryIndex index;
        final Resource framework;
        final Resource root;
        final Map<Requirement, Need> needs = new IdentityHashMap<>();
        final Map<Resource, Artifact> artifacts = new IdentityHashMap<>();
        final CapabilityIndex capabilities;

        Context(String distribution, RepositoryIndex index, Resource framework, List<Need> needs) {
            this.distribution = distribution;
            this.index = index;
            this.framework = framework;
            ResourceBuilder rootBuilder = new ResourceBuilder();
            for (Need need : needs) {
                rootBuilder.addRequirement(CapReqBuilder.clone(need.requirement()));
            }
            this.root = rootBuilder.build();
            // (A built resource groups requirements by namespace: match them back to the needs by content.)
            List<Need> unmatched = new ArrayList<>(needs);
            for (Requirement requirement : root.getRequirements(null)) {
                for (Need need : unmatched) {
                    if (need.requirement().getNamespace().equals(requirement.getNamespace())
                            && need.requirement().getDirectives().equals(requirement.getDirectives())) {
                        this.needs.put(requirement, need);
                        unmatched.remove(need);
                        break;
                    }
                }
            }
            index.artifacts().forEach(a -> artifacts.put(a.resource(), a));
            this.capabilities = new CapabilityIndex(index);
        }

        @Override
        public Collection<Resource> getMandatoryResources() {
            return List.of(root);
        }

        /**
         * Candidates in order of preference: the framework's; then the requirer's own (a bundle that exports a
         * package it also imports keeps its own unless another is needed); then, for a mandatory requirement only,
         * the repository's, best first by bnd's capability order (for a package: highest package version, then
         * symbolic name and bundle version). An optional requirement never pulls a bundle in from the repository.
         */
        @Override
        public List<Capability> findProviders(Requirement requirement) {
            if ("dynamic".equals(requirement.getDirectives().get(Namespace.REQUIREMENT_RESOLUTION_DIRECTIVE))) {
                return new ArrayList<>();
            }
            List<Capability> providers = new ArrayList<>();
            for (Capability capability : framework.getCapabilities(requirement.getNamespace())) {
                if (ResourceUtils.matches(requirement, capability)) {
                    providers.add(capability);
                }
            }
            Resource requirer = requirement.getResource();
            if (requirer != null && requirer != framework) {
                for (Capability capability : requirer.getCapabilities(requirement.getNamespace())) {
                    if (ResourceUtils.matches(requirement, capability)) {
                        providers.add(capability);
                    }
                }
            }
            if (!mandatory(requirement)) {
                return providers;
            }
            List<Capability> fromIndex = new ArrayList<>();
            for (Capability capability : capabilities.candidates(requirement)) {
                if (capability.getResource() != requirer && ResourceUtils.matches(requirement, capability)) {
                    fromIndex.add(capability);
                }
            }
            fromIndex.sort((a, b) -> ResourceUtils.compareTo(b, a));
            providers.addAll(fromIndex);
            return providers;
        }

        @Override
        public int insertHostedCapability(List<Capability> capabilities, HostedCapability hostedCapability) {
            capabilities.add(hostedCapability);
            return capabilities.size() - 1;
        }

        @Override
        public boolean isEffective(Requirement requirement) {
            String effective = requirement.getDirectives().get(Namespace.REQUIREMENT_EFFECTIVE_DIRECTIVE);
            return effective == null || Namespace.EFFECTIVE_RESOLVE.equals(effective);
        }

        @Override
        public Map<Resource, Wiring> getWirings() {
            return Map.of();
        }

        static boolean mandatory(Requirement requirement) {
            String resolution = requirement.getDirectives().get(Namespace.REQUIREMENT_RESOLUTION_DIRECTIVE);
            return !Namespace.RESOLUTION_OPTIONAL.equals(resolution) && !"dynamic".equals(resolution);
        }

        String name(Resource resource) {
            if (resource == root) {
                return "distribution " + distribution;
            }
            if (resource == framework) {
                return "the framework";
            }
            Artifact artifact = artifacts.get(resource);
            return artifact != null ? "bundle " + artifact.name() : String.valueOf(resource);
        }

        String describe(Requirement requirement) {
            Need need = needs.get(requirement);
            return need != null ? need.description() : RequirementText.of(requirement);
        }

        /** The failure, root cause first. */
        String explain(ResolutionException failure) {
            Map<Resource, Boolean> viable = viability();
            StringBuilder out = new StringBuilder("distribution " + distribution + " cannot be assembled: ");
            List<String> causes = new ArrayList<>();
            rootCauses(root, new ArrayList<>(List.of(name(root))), viable, causes, new LinkedHashSet<>());
            if (causes.isEmpty()) {
                Matcher uses = USES.matcher(String.valueOf(failure.getMessage()));
                if (uses.find()) {
                    out.append("a uses conflict: bundle ").append(uses.group(1)).append(" would see package ")
                            .append(uses.group(2)).append(" from two bundles at once, ").append(uses.group(3)).append(" and ")
                            .append(uses.group(4)).append(", through two chains of imports (below). Fix: make the bundles"
                                    + " agree on one version range of ").append(uses.group(2)).append(", or name the provider"
                                    + " they should share in the feature.");
                } else {
                    out.append("every requirement has a provider, but they do not fit together (a uses conflict, or a"
                            + " singleton twice). Fix: align the versions the resolver names below, or pin one provider in"
                            + " the feature.");
                }
                out.append("\n  Resolver: ").append(failure.getMessage().strip().replace("\n", "\n    "));
                return out.toString();
            }
            out.append(causes.size() == 1 ? "a requirement" : causes.size() + " requirements")
                    .append(" that nothing in the repository satisfies.");
            causes.forEach(cause -> out.append("\n").append(cause));
            out.append("\n  Fix: publish a bundle that provides ").append(causes.size() == 1 ? "it" : "them")
                    .append(" (cw repo publish), use a repository that has ").append(causes.size() == 1 ? "it" : "them")
                    .append(", or change the feature so that nothing needs ").append(causes.size() == 1 ? "it" : "them")
                    .append('.');
            return out.toString();
        }

        /** Resources whose every mandatory requirement has a provider that is itself viable (a fixpoint). */
        private Map<Resource, Boolean> viability() {
            Map<Resource, Boolean> viable = new HashMap<>();
            List<Resource> all = new ArrayList<>(artifacts.keySet());
            all.add(root);
            all.forEach(r -> viable.put(r, true));
            viable.put(framework, true);
            for (boolean changed = true; changed;) {
                changed = false;
                for (Resource resource : all) {
                    if (viable.get(resource) && resource.getRequirements(null).stream().filter(r -> mandatory(r) && isEffective(r))
                            .anyMatch(r -> findProviders(r).stream().noneMatch(c -> viable.getOrDefault(c.getResource(), false)))) {
                        viable.put(resource, false);
                        changed = true;
                    }
                }
            }
            return viable;
        }

        private void rootCauses(Resource resource, List<String> chain, Map<Resource, Boolean> viable, List<String> causes,
                Set<Resource> visited) {
            if (!visited.add(resource)) {
                return;
            }
            for (Requirement requirement : resource.getRequirements(null)) {
                if (!mandatory(requirement) || !isEffective(requirement)) {
                    continue;
                }
                List<Capability> providers = findProviders(requirement);
                if (providers.stream().anyMatch(c -> viable.getOrDefault(c.getResource(), false))) {
                    continue;
                }
                String what = describe(requirement);
                if (providers.isEmpty()) {
                    StringBuilder cause = new StringBuilder("  ").append(name(resource)).append(" needs ").append(what)
                            .append(": nothing provides it.");
                    if (chain.size() > 1) {
                        cause.append("\n    Needed by: ").append(String.join(" <- ", chain.reversed()));
                    }
                    List<String> rejected = rejectedCandidates(requirement);
                    if (rejected.isEmpty()) {
                        cause.append("\n    Candidates: none in the repository or the framework.");
                    } else {
                        cause.append("\n    Candidates:");
                        rejected.forEach(r -> cause.append("\n      ").append(r));
                    }
                    causes.add(cause.toString());
                } else {
                    for (Capability provider : providers) {
                        List<String> next = new ArrayList<>(chain);
                        next.add(name(provider.getResource()));
                        rootCauses(provider.getResource(), next, viable, causes, visited);
                    }
                }
            }
        }

        /** Felix's account of a uses conflict: the resource, the package, the two providers. */
        private static final Pattern USES = Pattern.compile("Unable to resolve resource (\\S+) \\[[^\\]]*\\] because it is"
                + " exposed to package '([^']+)' from resources (\\S+) \\[[^\\]]*\\] and (\\S+) \\[[^\\]]*\\]");

        private static final Pattern VERSION_FILTER = Pattern.compile("\\((?:bundle-)?version");

        /** Capabilities of the same namespace and name that fail the filter, each with why. */
        private List<String> rejectedCandidates(Requirement requirement) {
            String namespace = requirement.getNamespace();
            String name = RequirementText.name(requirement);
            List<String> rejected = new ArrayList<>();
            List<Resource> resources = new ArrayList<>();
            resources.add(framework);
            index.artifacts().forEach(a -> resources.add(a.resource()));
            for (Resource resource : resources) {
                for (Capability capability : resource.getCapabilities(namespace)) {
                    Object value = capability.getAttributes().get(namespace);
                    boolean sameName = value != null && (value.equals(name)
                            || (value instanceof Collection<?> values && values.contains(name)));
                    if (!sameName) {
                        continue;
                    }
                    rejected.add(name(resource) + " provides " + namespace + " " + name + " " + versionOf(capability)
                            + ": " + whyNot(requirement, capability));
                }
            }
            if (namespace.equals("osgi.ee") && !rejected.isEmpty()) {
                // The framework lists every EE version it implements: name the highest instead of all 26.
                return List.of("the framework provides " + name + " up to version " + highest(framework, name)
                        + " (this JVM): " + RequirementText.of(requirement).replace("execution environment ", "") + " needs a newer Java");
            }
            return rejected;
        }

        private static String highest(Resource framework, String name) {
            return framework.getCapabilities("osgi.ee").stream()
                    .filter(c -> name.equals(c.getAttributes().get("osgi.ee")))
                    .flatMap(c -> c.getAttributes().get("version") instanceof List<?> l ? l.stream() : java.util.stream.Stream.of(c.getAttributes().get("version")))
                    .map(v -> Version.parseVersion(String.valueOf(v))).max(Comparator.naturalOrder())
                    .map(Version::toString).orElse("?");
        }

        private static String versionOf(Capability capability) {
            Object version = capability.getAttributes().get("version");
            if (version == null) {
                version = capability.getAttributes().get("bundle-version");
            }
            return version == null ? "(no version)" : String.valueOf(version);
        }

        private String whyNot(Requirement requirement, Capability capability) {
            String filter = requirement.getDirectives().getOrDefault(Namespace.REQUIREMENT_FILTER_DIRECTIVE, "");
            if (VERSION_FILTER.matcher(filter).find()) {
                Matcher range = Pattern.compile("\\[[^\\]\\)]*[\\]\\)]").matcher(RequirementText.of(requirement));
                String wanted = range.find() ? range.group() : RequirementText.versionRange(filter).strip();
                try {
                    Object version = capability.getAttributes().get("version");
                    if (version != null && !wanted.isEmpty() && wanted.startsWith("[")
                            && !new VersionRange(wanted).includes(Version.parseVersion(String.valueOf(version)))) {
                        return "version " + version + " is outside " + wanted;
                    }
                } catch (IllegalArgumentException e) {
                    // fall through to the filter
                }
            }
            String mandatory = capability.getDirectives().get("mandatory");
            if (mandatory != null) {
                return "it requires the attributes " + mandatory + " to be asked for (mandatory), and " + filter + " does not";
            }
            return "it does not match " + filter;
        }
    }

    /** Looks up an artifact of the resolution by symbolic name. */
    public Optional<Artifact> find(String symbolicName) {
        return artifacts.stream().filter(a -> a.symbolicName().equals(symbolicName)).findFirst();
    }
}
