package org.commonweal.management;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Whether an old bundle revision's class loader becomes collectable once the revision is refreshed away. A class
 * loader that stays reachable keeps every class of the old revision and its static state in memory, and usually means
 * something outside the bundle still holds one of its objects: a system property, a thread it started (or one whose
 * context class loader it is), a ThreadLocal, a static field of another bundle, a JVM-wide registry.
 */
final class LeakProbe {

    private LeakProbe() {
    }

    /** "collected in N ms", or "leaked: ..." naming what holds it when that is a thread or a system property. */
    static String await(WeakReference<ClassLoader> loader, long timeoutMillis, String revision) {
        long start = System.nanoTime();
        long deadline = start + timeoutMillis * 1_000_000;
        while (loader.get() != null && System.nanoTime() < deadline) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "skipped (interrupted)";
            }
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        ClassLoader leaked = loader.get();
        if (leaked == null) {
            return "collected in " + millis + " ms";
        }
        List<String> holders = holders(leaked);
        leaked = null;
        return "leaked: the class loader of " + revision + " is still reachable " + millis + " ms after the refresh"
                + (holders.isEmpty() ? " (held by something other than a thread or a system property: a static field of"
                        + " another bundle, a ThreadLocal, a JVM-wide registry)" : "; held by " + String.join(", ", holders))
                + ". Fix: the bundle must undo in its stop (or deactivate) whatever it registered outside itself";
    }

    private static List<String> holders(ClassLoader loader) {
        List<String> holders = new ArrayList<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getClass().getClassLoader() == loader) {
                holders.add("thread '" + thread.getName() + "' (its class)");
            } else if (thread.getContextClassLoader() == loader) {
                holders.add("thread '" + thread.getName() + "' (its context class loader)");
            }
        }
        for (Map.Entry<Object, Object> entry : System.getProperties().entrySet()) {
            if (entry.getValue() != null && entry.getValue().getClass().getClassLoader() == loader) {
                holders.add("system property '" + entry.getKey() + "'");
            }
        }
        return holders;
    }
}
