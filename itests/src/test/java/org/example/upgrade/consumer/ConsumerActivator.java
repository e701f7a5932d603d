package org.example.upgrade.consumer;

import org.example.upgrade.greeter.api.Greeter;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/** A test bundle for HotUpgradeIT that imports the greeter's package, so that it is in the greeter's refresh set. */
public final class ConsumerActivator implements BundleActivator {

    /** Referenced so that bnd imports the greeter's package. */
    static final Class<?> USES = Greeter.class;

    @Override
    public void start(BundleContext context) {
    }

    @Override
    public void stop(BundleContext context) {
    }
}
