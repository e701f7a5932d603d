package org.example.upgrade.bystander;

import java.util.List;
import java.util.Map;

import org.commonweal.node.api.MetricSource;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/** A test bundle for HotUpgradeIT that depends on none of the others: no upgrade of theirs may touch it. */
public final class BystanderActivator implements BundleActivator {

    @Override
    public void start(BundleContext context) {
        // Counted JVM-wide (a system property holds a String, which pins no class loader), so a restart by a refresh shows.
        String key = "org.example.upgrade.bystander.starts";
        int starts = Integer.parseInt(System.getProperty(key, "0")) + 1;
        System.setProperty(key, Integer.toString(starts));
        context.registerService(MetricSource.class, () -> List.of(new MetricSource.Sample("example_starts_total", "counter",
                "Starts of the test bundles", Map.of("bundle", "bystander"), Integer.parseInt(System.getProperty(key, "0")))), null);
    }

    @Override
    public void stop(BundleContext context) {
    }
}
