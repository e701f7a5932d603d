package org.commonweal.node.api;

import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadFactory;

/**
 * Threads of a bundle that keep nothing of it once they end, so that an upgrade of the bundle lets its old revision
 * go. A {@link Thread} keeps its task and its context class loader after it ended, and Felix 7.0.5 can keep a thread
 * that ended: when two threads define the same class of a bundle at once, the one that waited leaves its entry in that
 * bundle's class loader ({@code BundleClassLoader.m_classLocks}, never removed). An old inference scheduler thread,
 * left in the kernels bundle's loader, kept the old inference revision reachable after an upgrade in about one run in
 * four.
 * <p>
 * Here a thread's task is a {@link FutureTask}, a JDK class that drops the body it ran when done, and the thread clears
 * its context class loader as it ends. What the body throws still goes to the thread's uncaught exception handler.
 */
public final class BundleThreads {

    private BundleThreads() {
    }

    /** A daemon thread named {@code name} that runs {@code body}, not started. */
    public static Thread unstarted(String name, Runnable body) {
        Thread thread = new Thread(task(body), name);
        thread.setDaemon(true);
        return thread;
    }

    /** Starts a daemon thread named {@code name} that runs {@code body}. */
    public static Thread start(String name, Runnable body) {
        Thread thread = unstarted(name, body);
        thread.start();
        return thread;
    }

    /** A factory of such threads, all named {@code name}: for executors (the worker they run is dropped at its end). */
    public static ThreadFactory factory(String name) {
        return body -> unstarted(name, body);
    }

    private static Runnable task(Runnable body) {
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
        return new FutureTask<Void>(guarded, null);
    }
}
