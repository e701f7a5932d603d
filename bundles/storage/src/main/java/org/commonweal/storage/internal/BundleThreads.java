package org.commonweal.storage.internal;

import java.util.concurrent.FutureTask;

/**
 * Threads of this bundle that keep nothing of it once they end. A {@link Thread} keeps its task and its context class
 * loader after it ended, and Felix 7.0.5 can keep a thread that ended: when two threads define the same class of a
 * bundle at once, the one that waited leaves its entry in that bundle's class loader
 * ({@code BundleClassLoader.m_classLocks}, never removed). That kept an old revision of the inference bundle reachable
 * after an upgrade (its scheduler thread, left in the kernels bundle's loader); a block log's thread, whose context
 * class loader is this bundle's, is as exposed.
 * <p>
 * Here the thread's task is a {@link FutureTask}, a JDK class that drops the body it ran when done, and the thread
 * clears its context class loader as it ends. What the body throws still goes to the thread's uncaught exception
 * handler.
 */
public final class BundleThreads {

    private BundleThreads() {
    }

    /** A daemon thread named {@code name} that runs {@code body}, not started. */
    public static Thread unstarted(String name, Runnable body) {
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
    public static Thread start(String name, Runnable body) {
        Thread thread = unstarted(name, body);
        thread.start();
        return thread;
    }
}
