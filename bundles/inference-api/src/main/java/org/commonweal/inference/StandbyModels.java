package org.commonweal.inference;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.commonweal.node.api.BundleThreads;

/**
 * The models of an inference implementation that is being replaced, still serving until its successor serves: an
 * upgrade of the implementation then makes no request wait. The leaving implementation {@linkplain #offer offers}
 * its {@link LanguageModels} before it withdraws its service; users of the models ({@code inference-http}) take the
 * standby while there is one ({@link #current}); the next implementation, once its models are loaded and warm,
 * {@linkplain #replace replaces} it, and the standby is then told to retire (stop taking requests, finish those it
 * took). A standby nobody replaces (the implementation was stopped, not upgraded) retires by itself after the time its
 * offer gave.
 * <p>
 * This class is in the API bundle, which an upgrade of the implementation does not replace. It holds the leaving
 * revision's objects only until they retire, so that revision's class loader can go.
 */
public final class StandbyModels {

    private record Standby(LanguageModels models, Runnable retire, long retireAtNanos) {
    }

    private static Standby standby;
    private static final List<Runnable> LISTENERS = new ArrayList<>();
    private static Thread timer;

    private StandbyModels() {
    }

    /**
     * {@code models} serve on as the standby until a successor {@linkplain #replace replaces} them or {@code max}
     * passes; then {@code retire} runs (once, on another thread), and it must stop taking requests. A standby offered
     * before is retired at once.
     */
    public static void offer(LanguageModels models, Duration max, Runnable retire) {
        Standby previous;
        synchronized (StandbyModels.class) {
            previous = standby;
            standby = new Standby(models, retire, System.nanoTime() + Math.max(0, max.toNanos()));
            if (timer == null) {
                timer = BundleThreads.unstarted("inference-standby", StandbyModels::retireWhenDue);
                timer.start();
            }
            StandbyModels.class.notifyAll();
        }
        if (previous != null) {
            retire(previous);
        }
        changed();
    }

    /** The standby models, or null when no implementation is being replaced. */
    public static synchronized LanguageModels current() {
        return standby == null ? null : standby.models();
    }

    /**
     * Called by an implementation once it serves: the standby (if any, and not {@code self}) retires now. Returns
     * whether there was one.
     */
    public static boolean replace(LanguageModels self) {
        Standby retiring;
        synchronized (StandbyModels.class) {
            retiring = standby;
            if (retiring == null || retiring.models() == self) {
                return false;
            }
            standby = null;
            StandbyModels.class.notifyAll();
        }
        retire(retiring);
        changed();
        return true;
    }

    /** Runs {@code listener} after every change of the standby (offered, replaced, retired); for waiting users. */
    public static void listen(Runnable listener) {
        synchronized (LISTENERS) {
            LISTENERS.add(listener);
        }
    }

    /** Stops running {@code listener}. */
    public static void unlisten(Runnable listener) {
        synchronized (LISTENERS) {
            LISTENERS.remove(listener);
        }
    }

    private static void changed() {
        List<Runnable> listeners;
        synchronized (LISTENERS) {
            listeners = List.copyOf(LISTENERS);
        }
        listeners.forEach(Runnable::run);
    }

    /** Retires on its own thread: the caller may be the successor's activation, which must not wait for a drain. */
    private static void retire(Standby s) {
        // Its task, the leaving revision's retire action, is dropped when done (see BundleThreads).
        BundleThreads.start("inference-standby-retire", s.retire());
    }

    private static void retireWhenDue() {
        Standby due = null;
        synchronized (StandbyModels.class) {
            try {
                while (standby != null) {
                    long left = standby.retireAtNanos() - System.nanoTime();
                    if (left <= 0) {
                        due = standby;
                        standby = null;
                        break;
                    }
                    StandbyModels.class.wait(Math.max(1, left / 1_000_000));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                timer = null;
            }
        }
        if (due != null) {
            retire(due);
            changed();
        }
    }
}
