package org.commonweal.node.api;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** A thread that ended, still held (as Felix 7.0.5 may hold it), keeps neither its body nor its context class loader. */
class BundleThreadsTest {

    @Test
    void anEndedThreadStillHeldKeepsNothingOfItsBody() throws Exception {
        AtomicReference<WeakReference<Object>> captured = new AtomicReference<>();
        Thread thread = BundleThreads.unstarted("bundle-threads-test", body(captured));
        thread.setContextClassLoader(new ClassLoader() { });
        thread.start();
        thread.join();
        for (int i = 0; i < 50 && !captured.get().refersTo(null); i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertTrue(captured.get().refersTo(null), "the ended thread still refers to what its body captured");
        assertNull(thread.getContextClassLoader());
    }

    /** A body that captures an object nothing else holds, whose weak reference it gives {@code captured}. */
    private static Runnable body(AtomicReference<WeakReference<Object>> captured) {
        Object state = new Object();
        captured.set(new WeakReference<>(state));
        return () -> state.hashCode();
    }
}
