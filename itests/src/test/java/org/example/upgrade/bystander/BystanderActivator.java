package org.example.upgrade.bystander;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/** A test bundle for HotUpgradeIT that depends on none of the others: no upgrade of theirs may touch it. */
public final class BystanderActivator implements BundleActivator {

    @Override
    public void start(BundleContext context) {
    }

    @Override
    public void stop(BundleContext context) {
    }
}
