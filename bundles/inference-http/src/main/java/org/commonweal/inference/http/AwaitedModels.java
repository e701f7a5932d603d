package org.commonweal.inference.http;

import org.commonweal.inference.LanguageModels;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The {@link LanguageModels} service of the moment, and a bounded wait for the next one: while the inference
 * implementation is replaced there is none for a short while, and a request waits instead of failing. A waiter
 * wakes on every change of the service (added, removed, its models' list updated), never by polling.
 */
final class AwaitedModels implements AutoCloseable {

    private final Object changed = new Object();
    private final ServiceTracker<LanguageModels, LanguageModels> tracker;

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
    }

    private void signal() {
        synchronized (changed) {
            changed.notifyAll();
        }
    }

    /** The service now, or null. */
    LanguageModels now() {
        return tracker.getService();
    }

    /**
     * A service other than {@code not} (null: any), waiting for one until {@code deadlineNanos} ({@link System#nanoTime});
     * null if none came.
     */
    LanguageModels await(LanguageModels not, long deadlineNanos) throws InterruptedException {
        synchronized (changed) {
            while (true) {
                LanguageModels service = tracker.getService();
                if (service != null && service != not) {
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
        tracker.close();
    }
}
