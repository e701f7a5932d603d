package org.commonweal.inference.internal;

import java.util.concurrent.FutureTask;

/**
 * Threads of this bundle that keep nothing of it once they end. A {@link Thread} keeps its task and its context class
 * loader after it ended, and Felix 7.0.5 can keep a thread that ended: when two threads define the same class of a
 * bundle at once, the one that waited leaves its entry in that bundle's class loader
 * ({@code BundleClassLoader.m_classLocks}, never removed). A scheduler thread of the old revision, left there by the
 * kernels bundle, kept the old revision reachable after an upgrade in about one run in four (HotUpgradeIT).
 * <p>
 * Here the thread's task is a {@link FutureTask}, a JDK class that drops the body it ran when done, and the thread
 * clears its context class loader as it ends. What the body throws still goes to the thread's uncaught exception
 * handler.
 */
final class BundleThreads {

    private BundleThreads() {
    }

    /** A daemon thread named {@code name} that runs {@code body}, not started. */
    static Thread unstarted(String name, Runnable body) {
        Runnable guarded = () -> {
            try {
                body.run();
            } catch (Throwable e) {
                Thread me = Thread.currentThread();
                me.getUncaughtExceptionHandler().uncaughtException(me, e);
            } finally {
                Thread.currentThread().setContextClassLoader(null);
            }
        };
        Thread thread = new Thread(new FutureTask<Void>(guarded, null), name);
        thread.setDaemon(true);
        return thread;
    }

    /** Starts a daemon thread named {@code name} that runs {@code body}. */
    static Thread start(String name, Runnable body) {
        Thread thread = unstarted(name, body);
        thread.start();
        return thread;
    }
}
