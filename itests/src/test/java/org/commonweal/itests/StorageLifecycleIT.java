package org.commonweal.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.ref.WeakReference;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * Updating the Chronicle-embedding storage bundle in place (stop, update, refresh) and reopening the same log
 * through the new revision; afterwards the old revision's class loader must be collectable. Reflection only: this probe must not wire to the storage bundle, or the refresh
 * would restart the probe too.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StorageLifecycleIT {

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] configuration() {
        return DevDistribution.paxExamOptions(DevDistribution.workFolder("storage-lifecycle"), DevDistribution.freePort());
    }

    /** Chronicle's JVM-wide threads of the old revision, seen just before its last stop. */
    private final List<WeakReference<Thread>> oldChronicleThreads = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Test
    public void theBundleUpdatesInPlaceAndTheNewRevisionReopensTheLog() throws Exception {
        // Every call into Chronicle runs on threads that end: Chronicle keeps ThreadLocals in every thread that
        // calls it, and a ThreadLocal value of a live thread pins the class loader that defined its class.
        // More rounds (-Dcommonweal.itest.lifecycleRounds) give a rare pin more chances in one run.
        int rounds = Integer.getInteger("commonweal.itest.lifecycleRounds", 1);
        for (int round = 1; round <= rounds; round++) {
            updateReopenAndProbe(round);
            oldChronicleThreads.clear();
        }
    }

    /** One update, refresh and reopen; then the old revision's class loader must be collected. */
    private void updateReopenAndProbe(int round) throws Exception {
        List<WeakReference<ClassLoader>> first = onThreadThatEnds(this::updateAndReopen);
        WeakReference<ClassLoader> old = first.get(0);
        long waitMillis = Long.getLong("commonweal.itest.leakProbeSeconds", 60) * 1000; // a loaded machine collects late
        long start = System.nanoTime();
        while (!old.refersTo(null) && System.nanoTime() - start < waitMillis * 1_000_000) {
            System.gc();
            Thread.sleep(100);
        }
        // Needs the bundle's activator too: without it Chronicle's disk space checker and background releaser
        // threads outlive the bundle and hold the old revision. And the management bundle's RecordMethodCaches: the
        // JDK's record methods softly keep the last record class linked (in about one run in four a class of the old
        // chain revision, whose loader keeps the storage revision it imported from) until the heap runs short.
        if (!old.refersTo(null)) {
            String threads = threadsHolding(old);
            // No local variable of this frame holds the loader, or the dump would show that as its GC root.
            String paths = GcRootPaths.dumpAndExplain(Path.of(System.getProperty("commonweal.itest.work"))
                    .resolveSibling("storage-lifecycle-pin.hprof"));
            fail("the old storage revision's class loader is still reachable (round " + round + ") after "
                    + (System.nanoTime() - start) / 1_000_000 + " ms; threads holding it or running its code: [" + threads
                    + "]; Chronicle threads of the old revision still alive: " + oldChronicleThreads.stream()
                    .map(WeakReference::get).filter(t -> t != null && t.isAlive()).map(Thread::getName).toList() + "\n"
                    + paths + GcRootPaths.afterFinalization(old));
        }
    }

    /** Threads whose class or context class loader is {@code loader}, or that run Chronicle's or our code. */
    private static String threadsHolding(WeakReference<ClassLoader> loader) {
        ClassLoader old = loader.get();
        StringBuilder threads = new StringBuilder();
        for (var entry : Thread.getAllStackTraces().entrySet()) {
            Thread thread = entry.getKey();
            if (old != null && (thread.getContextClassLoader() == old || thread.getClass().getClassLoader() == old)) {
                threads.append(thread.getName()).append("; ");
            } else if (old != null && java.util.Arrays.stream(entry.getValue()).anyMatch(frame ->
                    frame.getClassName().startsWith("net.openhft.") || frame.getClassName().startsWith("org.commonweal."))) {
                // a thread running Chronicle's or our code (maybe the old revision's, through its Runnable, or a
                // component of another bundle still holding an object of the old revision)
                threads.append(thread.getName()).append(" (runs ").append(entry.getValue()[0]).append("); ");
            }
            if (old != null) {
                threadLocalsOf(thread, old, threads);
            }
        }
        return threads.toString();
    }

    /** Names the thread and value class of every ThreadLocal value of {@code thread} defined by {@code loader}. */
    private static void threadLocalsOf(Thread thread, ClassLoader loader, StringBuilder out) {
        try {
            for (String field : List.of("threadLocals", "inheritableThreadLocals")) {
                java.lang.reflect.Field mapField = Thread.class.getDeclaredField(field);
                mapField.setAccessible(true);
                Object map = mapField.get(thread);
                if (map == null) {
                    continue;
                }
                java.lang.reflect.Field tableField = map.getClass().getDeclaredField("table");
                tableField.setAccessible(true);
                for (Object entry : (Object[]) tableField.get(map)) {
                    if (entry == null) {
                        continue;
                    }
                    java.lang.reflect.Field valueField = entry.getClass().getDeclaredField("value");
                    valueField.setAccessible(true);
                    Object value = valueField.get(entry);
                    Object key = ((java.lang.ref.Reference<?>) entry).get();
                    if ((value != null && value.getClass().getClassLoader() == loader)
                            || (key != null && key.getClass().getClassLoader() == loader)) {
                        out.append(thread.getName()).append(" has a ThreadLocal ").append(field).append(" value ")
                                .append(value == null ? null : value.getClass().getName()).append(" key ")
                                .append(key == null ? null : key.getClass().getName()).append("; ");
                    }
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            out.append("(cannot inspect ").append(thread.getName()).append(": ").append(e).append(") ");
        }
    }

    private static List<WeakReference<ClassLoader>> onThreadThatEnds(
            java.util.concurrent.Callable<WeakReference<ClassLoader>> body) throws Exception {
        List<WeakReference<ClassLoader>> result = new java.util.ArrayList<>();
        Exception[] failure = new Exception[1];
        Thread thread = new Thread(() -> {
            try {
                result.add(body.call());
            } catch (Exception e) {
                failure[0] = e;
            }
        }, "storage-lifecycle-itest");
        thread.start();
        thread.join();
        if (failure[0] != null) {
            throw failure[0];
        }
        return result;
    }

    private WeakReference<ClassLoader> updateAndReopen() throws Exception {
        Bundle storage = List.of(context.getBundles()).stream()
                .filter(b -> "org.commonweal.storage".equals(b.getSymbolicName())).findFirst().orElseThrow();
        Path dir = Files.createTempDirectory(Path.of(context.getProperty("commonweal.data.dir")), "blocklog-lifecycle-");

        // The chain bundle keeps a log open through storage while this runs: the refresh restarts it on the new
        // revision, and it must not keep the old one alive either.
        Bundle chain = List.of(context.getBundles()).stream()
                .filter(b -> "org.commonweal.chain".equals(b.getSymbolicName())).findFirst().orElseThrow();
        ClassLoader firstLoader = storage.adapt(BundleWiring.class).getClassLoader();
        Object log = open(storage, dir);
        for (int i = 0; i < 3; i++) {
            assertEquals((long) i, call(log, "append", new byte[] {(byte) i, 42}));
        }
        // Stopping the bundle closes a log left open; a restart of the same revision reopens it.
        storage.stop();
        storage.start();
        log = open(storage, dir);
        assertEquals(3L, call(log, "size"));
        call(log, "close");
        log = null;

        // Chronicle's JVM-wide threads now are the old revision's (weakly held: a thread holds its Runnable's loader).
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().contains("disk~space~checker") || thread.getName().contains("resource~releaser")) {
                oldChronicleThreads.add(new WeakReference<>(thread));
            }
        }
        storage.stop();
        storage.update();
        CountDownLatch refreshed = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(List.of(storage), event -> {
            if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                refreshed.countDown();
            }
        });
        assertTrue("refresh done", refreshed.await(30, TimeUnit.SECONDS));
        storage.start();
        assertEquals(Bundle.ACTIVE, storage.getState());
        ClassLoader secondLoader = storage.adapt(BundleWiring.class).getClassLoader();
        assertNotSame(firstLoader, secondLoader);

        Object reopened = open(storage, dir);
        assertEquals(3L, call(reopened, "size"));
        assertArrayEquals(new byte[] {2, 42}, (byte[]) call(reopened, "read", 2L));
        assertEquals(3L, call(reopened, "append", new byte[] {3}));
        call(reopened, "close");
        assertEquals(Bundle.ACTIVE, chain.getState());

        return new WeakReference<>(firstLoader);
    }

    private static Object open(Bundle storage, Path dir) throws Exception {
        Class<?> blockLog = storage.loadClass("org.commonweal.storage.BlockLog");
        return blockLog.getMethod("open", Path.class).invoke(null, dir);
    }

    private static Object call(Object target, String name, Object... args) throws Exception {
        for (Method method : target.getClass().getMethods()) {
            if (method.getName().equals(name) && method.getParameterCount() == args.length) {
                return method.invoke(target, args);
            }
        }
        throw new NoSuchMethodException(name);
    }
}
