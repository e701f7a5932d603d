package org.commonweal.launcher;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Applies a distribution's configurations through the ConfigAdmin service running inside the
 * framework. The launcher sits outside it (on the system bundle's class path, without the
 * org.osgi.service.cm API), so it calls the service's API through the API classes of the bundle that
 * registered it: the framework's wiring stays exactly what the distribution says.
 */
final class Configurations {

    static final String CONFIGURATION_ADMIN = "org.osgi.service.cm.ConfigurationAdmin";

    private Configurations() {
    }

    /** Creates or replaces each configuration; a PID {@code factory~name} is a named factory configuration. */
    static void apply(BundleContext context, Map<String, Map<String, Object>> configurations) throws LaunchException {
        if (configurations.isEmpty()) {
            return;
        }
        ServiceReference<?> reference = anyService(context, CONFIGURATION_ADMIN);
        if (reference == null) {
            throw new LaunchException("the distribution has configurations (" + String.join(", ", configurations.keySet())
                    + ") but no ConfigurationAdmin service is running. Fix: add"
                    + " org.apache.felix:org.apache.felix.configadmin to the feature's bundles");
        }
        Object admin = context.getService(reference);
        try {
            Bundle api = reference.getBundle();
            Class<?> adminType = api.loadClass(CONFIGURATION_ADMIN);
            Method update = api.loadClass("org.osgi.service.cm.Configuration").getMethod("update", Dictionary.class);
            Method get = adminType.getMethod("getConfiguration", String.class, String.class);
            Method getFactory = adminType.getMethod("getFactoryConfiguration", String.class, String.class, String.class);
            for (Map.Entry<String, Map<String, Object>> entry : configurations.entrySet()) {
                String pid = entry.getKey();
                int tilde = pid.indexOf('~');
                Object configuration = tilde < 0 ? get.invoke(admin, pid, "?")
                        : getFactory.invoke(admin, pid.substring(0, tilde), pid.substring(tilde + 1), "?");
                update.invoke(configuration, new Hashtable<>(entry.getValue()));
            }
        } catch (InvocationTargetException e) {
            throw new LaunchException("ConfigAdmin refused a configuration of the distribution: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new LaunchException("the ConfigAdmin bundle " + reference.getBundle().getSymbolicName() + " does not offer"
                    + " the org.osgi.service.cm API (" + e + "). Fix: use org.apache.felix.configadmin 1.9 or newer", e);
        } finally {
            context.ungetService(reference);
        }
    }

    /**
     * Any service of that class, whoever can see its API: the launcher's class path may hold a copy of
     * an API package (in tests it does), which would hide the framework's services from a lookup
     * that checks class compatibility.
     */
    static ServiceReference<?> anyService(BundleContext context, String className) {
        try {
            ServiceReference<?>[] references = context.getAllServiceReferences(className, null);
            return references == null ? null : references[0];
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether this bundle registers ConfigurationAdmin, judged from its manifest's declared capabilities. */
    static boolean provides(org.osgi.framework.wiring.BundleRevision revision) {
        return revision.getDeclaredCapabilities("osgi.service").stream().anyMatch(capability -> {
            Object classes = capability.getAttributes().get("objectClass");
            return classes instanceof java.util.List<?> list && list.contains(CONFIGURATION_ADMIN);
        });
    }
}
