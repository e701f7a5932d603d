package org.commonweal.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The runtime's fixed settings, read from their one place: {@code framework/jvm.options} (JVM flags)
 * and {@code framework/framework.properties} (OSGi framework properties), both carried in this jar.
 */
public final class RuntimeSettings {

    private static final String JVM_OPTIONS = "jvm.options";
    private static final String FRAMEWORK_PROPERTIES = "framework.properties";

    private RuntimeSettings() {
    }

    /** The framework properties every runtime starts from, in file order. */
    public static Map<String, String> frameworkProperties() {
        Properties properties = new Properties();
        try {
            properties.load(new java.io.StringReader(read(FRAMEWORK_PROPERTIES)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> result = new LinkedHashMap<>();
        properties.stringPropertyNames().stream().sorted().forEach(key -> result.put(key, properties.getProperty(key)));
        return result;
    }

    /** The text of jvm.options, the JVM flags of every runtime (an assembled distribution carries a copy). */
    public static String jvmOptions() {
        return read(JVM_OPTIONS);
    }

    /**
     * Fails early, with the fix, when this JVM was started without the flags of jvm.options: otherwise
     * the kernels would fail much later with a NoClassDefFoundError deep inside a bundle.
     */
    public static void checkJvm() throws LaunchException {
        if (Runtime.version().feature() < 25) {
            throw new LaunchException("this JVM is Java " + Runtime.version().feature() + "; Commonweal needs 25 or newer."
                    + " Fix: start it with ./cw, which finds a JDK 25, or set JAVA_HOME to one");
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()
                || !"true".equals(System.getProperty("chronicle.analytics.disable"))) {
            throw new LaunchException("this JVM was started without Commonweal's JVM flags (framework/jvm.options),"
                    + " so the Vector API and storage would fail inside bundles. Fix: start the node with ./cw node,"
                    + " or add @framework/jvm.options to the java command");
        }
    }

    private static String read(String resource) {
        try (InputStream in = RuntimeSettings.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing from the launcher jar; rebuild it with ./mvnw install");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
