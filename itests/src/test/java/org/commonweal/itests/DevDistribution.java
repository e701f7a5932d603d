package org.commonweal.itests;

import static org.ops4j.pax.exam.CoreOptions.bootDelegationPackage;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemPackage;
import static org.ops4j.pax.exam.CoreOptions.systemTimeout;
import static org.ops4j.pax.exam.cm.ConfigurationAdminOptions.newConfiguration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.commonweal.launcher.Distribution;
import org.commonweal.launcher.LaunchException;
import org.commonweal.launcher.Node;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.cm.ConfigurationOption;
import org.osgi.framework.Constants;

/**
 * The dev distribution as the itests see it: read from its built feature file (never a hand-kept copy)
 * and turned into Pax Exam options with the launcher's own {@link Node.Plan}, so that the tests boot
 * the same bundles, framework properties and configurations as {@code cw node}.
 */
final class DevDistribution {

    /** Framework properties that belong to Pax Exam's container, not to the node. */
    private static final Set<String> CONTAINER_OWNED = Set.of(Constants.FRAMEWORK_STORAGE,
            Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_BEGINNING_STARTLEVEL);

    private DevDistribution() {
    }

    static Path directory() {
        return Path.of(System.getProperty("commonweal.itest.distribution", "../distributions/dev/target/dist"));
    }

    static Path home() {
        return Path.of(System.getProperty("commonweal.home", ".."));
    }

    /** A fresh folder under target/ for one test's data. */
    static Path workFolder(String name) {
        try {
            Path work = Path.of(System.getProperty("commonweal.itest.work", "target/itest-work"));
            Files.createDirectories(work);
            return Files.createTempDirectory(work, name + "-").toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Distribution load() {
        try {
            return Distribution.load(directory());
        } catch (LaunchException e) {
            throw new IllegalStateException(e.getMessage() + " (build it first: ./mvnw install)", e);
        }
    }

    /** Pax Exam options that boot the dev distribution with its data in {@code data}, HTTP on {@code port}. */
    static Option[] paxExamOptions(Path data, int port) {
        Node.Plan plan;
        try {
            plan = Node.Plan.of(load(), new Node.Options(directory(), data, port), data);
        } catch (LaunchException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        List<Option> options = new ArrayList<>();
        plan.frameworkProperties().forEach((key, value) -> {
            // Pax Exam adds its own packages to these two; ours go in through its options so both count.
            if (Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA.equals(key)) {
                Stream.of(value.split(",")).map(String::strip).forEach(p -> options.add(systemPackage(p)));
            } else if (Constants.FRAMEWORK_BOOTDELEGATION.equals(key)) {
                Stream.of(value.split(",")).map(String::strip).forEach(p -> options.add(bootDelegationPackage(p)));
            } else if (!CONTAINER_OWNED.contains(key)) {
                options.add(frameworkProperty(key).value(value));
            }
        });
        for (Distribution.BundleArtifact artifact : plan.distribution().bundles()) {
            // Start level 1: the distribution (its logging above all) is up before Pax Exam's own bundles,
            // as it is before anything else in a node.
            options.add(bundle(artifact.jar().toUri().toString()).startLevel(1));
        }
        for (Map.Entry<String, Map<String, Object>> configuration : plan.configurations().entrySet()) {
            ConfigurationOption option = newConfiguration(configuration.getKey());
            configuration.getValue().forEach(option::put);
            options.add(option.asOption());
        }
        options.add(junitBundles());
        options.add(systemTimeout(60_000));
        return options.toArray(Option[]::new);
    }
}
