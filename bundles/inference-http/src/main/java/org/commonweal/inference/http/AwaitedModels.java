package org.commonweal.inference.http;

import org.commonweal.inference.LanguageModels;
import org.commonweal.inference.StandbyModels;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The models of the moment: the {@link StandbyModels standby} while an implementation that is being replaced still
 * serves, otherwise the {@link LanguageModels} service; and a bounded wait for the next one, for the short while there
 * is neither (a standby that retired before its successor was ready, a stopped implementation started again): a
 * request then waits instead of failing. A waiter wakes on every change (service added, removed, its models' list
 * updated; standby offered or retired), never by polling.
 */
final class AwaitedModels implements AutoCloseable {

    private final Object changed = new Object();
    private final ServiceTracker<LanguageModels, LanguageModels> tracker;
    private final Runnable standbyChanged = this::signal;

    AwaitedModels(BundleContext context) {
        tracker = new ServiceTracker<>(context, LanguageModels.class, null) {
            @Override
            public LanguageModels addingService(ServiceReference<LanguageModels> reference) {
                LanguageModels service = super.addingService(reference);
                signal();
                return service;
            }

            @Override
            public void modifiedService(ServiceReference<LanguageModels> reference, LanguageModels service) {
                signal();
            }

            @Override
            public void removedService(ServiceReference<LanguageModels> reference, LanguageModels service) {
                super.removedService(reference, service);
                signal();
            }
        };
        tracker.open();
        StandbyModels.listen(standbyChanged);
    }

    private void signal() {
        synchronized (changed) {
            changed.notifyAll();
        }
    }

    /** The models now (the standby first), or null. */
    LanguageModels now() {
        return now(null);
    }

    /** The standby or else the service, other than {@code not}; or null. */
    private LanguageModels now(LanguageModels not) {
        LanguageModels standby = StandbyModels.current();
        if (standby != null && standby != not) {
            return standby;
        }
        LanguageModels service = tracker.getService();
        return service != not ? service : null;
    }

    /**
     * A service other than {@code not} (null: any), waiting for one until {@code deadlineNanos} ({@link System#nanoTime});
     * null if none came.
     */
    LanguageModels await(LanguageModels not, long deadlineNanos) throws InterruptedException {
        synchronized (changed) {
            while (true) {
                LanguageModels service = now(not);
                if (service != null) {
                    return service;
                }
                if (!waitForChange(deadlineNanos)) {
                    return null;
                }
            }
        }
    }

    /** Waits for the next change of the service (or its properties) until the deadline; false if the time is up. */
    boolean awaitChange(long deadlineNanos) throws InterruptedException {
        synchronized (changed) {
            return waitForChange(deadlineNanos);
        }
    }

    private boolean waitForChange(long deadlineNanos) throws InterruptedException {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            return false;
        }
        changed.wait(Math.max(1, left / 1_000_000));
        return true;
    }

    @Override
    public void close() {
        StandbyModels.unlisten(standbyChanged);
        tracker.close();
    }
}
