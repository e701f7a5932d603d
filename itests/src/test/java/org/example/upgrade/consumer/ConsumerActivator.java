package org.example.upgrade.consumer;

import org.example.upgrade.greeter.api.Greeter;
import java.util.List;
import java.util.Map;

import org.commonweal.node.api.MetricSource;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/** A test bundle for HotUpgradeIT that imports the greeter's package, so that it is in the greeter's refresh set. */
public final class ConsumerActivator implements BundleActivator {

    /** Referenced so that bnd imports the greeter's package. */
    static final Class<?> USES = Greeter.class;

    @Override
    public void start(BundleContext context) {
        // Counted JVM-wide (a system property holds a String, which pins no class loader), so a restart by a refresh shows.
        String key = "org.example.upgrade.consumer.starts";
        int starts = Integer.parseInt(System.getProperty(key, "0")) + 1;
        System.setProperty(key, Integer.toString(starts));
        context.registerService(MetricSource.class, () -> List.of(new MetricSource.Sample("example_starts_total", "counter",
                "Starts of the test bundles", Map.of("bundle", "consumer"), Integer.parseInt(System.getProperty(key, "0")))), null);
    }

    @Override
    public void stop(BundleContext context) {
    }
}
