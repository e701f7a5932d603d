package org.commonweal.repo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.felix.framework.Felix;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.resource.Resource;

import aQute.bnd.osgi.resource.CapabilityBuilder;
import aQute.bnd.osgi.resource.ResourceBuilder;

/**
 * What the framework itself provides (the system bundle: OSGi core packages, the JDK's packages, the execution
 * environments of this JVM, {@code system.packages.extra}), taken from an initialised but never started Felix with
 * the distribution's framework properties: exactly what the node's resolver will see.
 */
public final class FrameworkResource {

    private FrameworkResource() {
    }

    public static Resource of(Map<String, String> frameworkProperties) throws RepositoryException {
        Path storage = null;
        try {
            storage = Files.createTempDirectory("cw-resolve-");
            Map<String, Object> config = new HashMap<>(frameworkProperties);
            config.put(Constants.FRAMEWORK_STORAGE, storage.toString());
            config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
            Felix felix = new Felix(config);
            felix.init();
            try {
                ResourceBuilder builder = new ResourceBuilder();
                for (BundleCapability capability : felix.adapt(BundleRevision.class).getDeclaredCapabilities(null)) {
                    CapabilityBuilder copy = new CapabilityBuilder(capability.getNamespace());
                    copy.addAttributes(capability.getAttributes());
                    copy.addDirectives(capability.getDirectives());
                    builder.addCapability(copy);
                }
                return builder.build();
            } finally {
                felix.stop();
                felix.waitForStop(10_000);
            }
        } catch (BundleException | IOException | InterruptedException e) {
            throw new RepositoryException("the framework's own capabilities cannot be read (" + e + "). Fix: check that"
                    + " the temporary directory is writable", e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            if (storage != null) {
                try (Stream<Path> files = Files.walk(storage)) {
                    files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                } catch (IOException ignored) {
                    // a temporary directory left behind is harmless
                }
            }
        }
    }
}
