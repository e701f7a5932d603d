package org.commonweal.storage.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The block logs open in this bundle revision, so that stopping the bundle can close them. No OSGi types. */
public final class OpenLogs {

    private static final Set<AutoCloseable> OPEN = ConcurrentHashMap.newKeySet();

    private OpenLogs() {
    }

    public static void opened(AutoCloseable log) {
        OPEN.add(log);
    }

    public static void closed(AutoCloseable log) {
        OPEN.remove(log);
    }

    static void closeAll() throws Exception {
        List<AutoCloseable> open = new ArrayList<>(OPEN);
        for (AutoCloseable log : open) {
            log.close();
        }
    }
}
