package org.commonweal.node;

import java.nio.file.Path;

import org.osgi.framework.BundleContext;

/** Where the node keeps its state: the launcher's {@code --data} directory. */
final class DataDirectory {

    /** The framework property the launcher sets to the node's data directory. */
    static final String PROPERTY = "commonweal.data.dir";

    private DataDirectory() {
    }

    static Path of(BundleContext context) {
        String dir = context.getProperty(PROPERTY);
        if (dir == null || dir.isBlank()) {
            throw new IllegalStateException("the framework property " + PROPERTY + " is not set, so the node does not know"
                    + " where its data directory is. Fix: start the node with ./cw node (it sets it from --data)");
        }
        return Path.of(dir);
    }
}
