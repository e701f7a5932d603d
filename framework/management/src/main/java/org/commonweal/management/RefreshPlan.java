package org.commonweal.management;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.osgi.framework.Bundle;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * What updating one bundle refreshes: the framework's dependency closure of it (what {@code refreshBundles} will
 * stop, rewire and start), split into the bundles that depend on it (wired to it, directly or through others) and
 * the rest, which a plan must not reach without {@code --force}: for a fragment, its host and whatever depends on
 * the host.
 *
 * @param refreshSet the dependency closure, the bundle first
 * @param dependents bundles wired to the bundle, transitively
 * @param beyond     bundles of the refresh set that are neither the bundle nor one of its dependents
 */
record RefreshPlan(List<Bundle> refreshSet, List<Bundle> dependents, List<Bundle> beyond) {

    static RefreshPlan of(Bundle bundle, FrameworkWiring wiring) {
        Set<Bundle> closure = new LinkedHashSet<>();
        closure.add(bundle);
        closure.addAll(wiring.getDependencyClosure(List.of(bundle)));
        Set<Bundle> dependents = dependentsOf(bundle);
        return of(bundle, closure, dependents);
    }

    /** The split, from the closure and the dependents (pure, for tests). */
    static RefreshPlan of(Bundle bundle, Collection<Bundle> closure, Collection<Bundle> dependents) {
        List<Bundle> beyond = closure.stream().filter(b -> !b.equals(bundle) && !dependents.contains(b)).toList();
        List<Bundle> depending = closure.stream().filter(dependents::contains).toList();
        return new RefreshPlan(List.copyOf(closure), depending, beyond);
    }

    /** Bundles whose current wiring requires a capability of {@code bundle}'s revisions, and theirs, transitively. */
    private static Set<Bundle> dependentsOf(Bundle bundle) {
        Set<Bundle> found = new LinkedHashSet<>();
        Deque<Bundle> todo = new ArrayDeque<>(List.of(bundle));
        while (!todo.isEmpty()) {
            Bundle provider = todo.pop();
            var revisions = provider.adapt(org.osgi.framework.wiring.BundleRevisions.class);
            if (revisions == null) {
                continue;
            }
            for (BundleRevision revision : revisions.getRevisions()) {
                BundleWiring wiring = revision.getWiring();
                if (wiring == null) {
                    continue;
                }
                for (BundleWire wire : wiring.getProvidedWires(null)) {
                    // Fragments attached to the bundle (osgi.wiring.host wires) count as its dependents: they are
                    // re-attached with it. A fragment's host, on the other hand, is beyond the fragment's dependents.
                    Bundle requirer = wire.getRequirer().getBundle();
                    if (!requirer.equals(bundle) && found.add(requirer)) {
                        todo.push(requirer);
                    }
                }
            }
        }
        return found;
    }
}
