package org.commonweal.storage.internal;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

import net.openhft.chronicle.core.io.BackgroundResourceReleaser;
import net.openhft.chronicle.core.shutdown.PriorityHook;
import net.openhft.chronicle.threads.DiskSpaceMonitor;

/**
 * On stop: closes every block log still open and stops the JVM-wide threads the embedded Chronicle started
 * (its background resource releaser and disk space checker) and removes its JVM shutdown hook. Without this those threads outlive the bundle
 * and keep the old revision's class loader, and every Chronicle class in it, alive after an update.
 */
public final class StorageActivator implements BundleActivator {

    @Override
    public void start(BundleContext context) {
        // Chronicle starts its threads lazily, with the first queue.
    }

    @Override
    public void stop(BundleContext context) throws Exception {
        OpenLogs.closeAll();
        DiskSpaceMonitor.INSTANCE.close();
        BackgroundResourceReleaser.stop();
        // Chronicle's JVM shutdown hook: a thread of this revision's classes, registered with the Runtime.
        PriorityHook.clear();
    }
}
