package org.example.upgrade.leaky;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/**
 * A deliberately leaking test bundle for HotUpgradeIT: it puts an object of its own class into the JVM's system
 * properties and never removes it, so its class loader stays reachable after an upgrade.
 */
public final class LeakyActivator implements BundleActivator {

    @Override
    public void start(BundleContext context) {
        System.getProperties().put("org.example.upgrade.leaky." + context.getBundle().getVersion(), this);
    }

    @Override
    public void stop(BundleContext context) {
        // deliberately nothing
    }
}
