package org.example.upgrade.greeter;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.commonweal.node.api.HealthCheck;
import org.commonweal.node.api.MetricSource;
import org.example.upgrade.greeter.api.Greeter;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/**
 * A test bundle for HotUpgradeIT, built by the test in several versions: it registers a Greeter, a health check that
 * passes unless its manifest says {@code Example-Health: failing}, and a metric source.
 */
public final class GreeterActivator implements BundleActivator {

    @Override
    public void start(BundleContext context) {
        String version = context.getBundle().getVersion().toString();
        boolean failing = "failing".equals(context.getBundle().getHeaders().get("Example-Health"));
        AtomicLong greetings = new AtomicLong();
        context.registerService(Greeter.class, name -> {
            greetings.incrementAndGet();
            return "hello " + name + " from " + version;
        }, null);
        context.registerService(HealthCheck.class, new HealthCheck() {
            @Override
            public String name() {
                return "greeter";
            }

            @Override
            public Result check() {
                return failing ? Result.unhealthy("greeter " + version + " is broken on purpose")
                        : Result.healthy("greeter " + version);
            }
        }, null);
        context.registerService(MetricSource.class, () -> List.of(new MetricSource.Sample("example_greetings_total",
                "counter", "Greetings served", Map.of("version", version), greetings.get())), null);
    }

    @Override
    public void stop(BundleContext context) {
    }
}
