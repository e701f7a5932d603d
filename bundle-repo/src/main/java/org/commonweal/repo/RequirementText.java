package org.commonweal.repo;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.osgi.resource.Namespace;
import org.osgi.resource.Requirement;

/** A requirement as a person reads it: "package org.foo [1.0.0,2.0.0)", "service org.foo.Bar", "osgi.ee JavaSE 25". */
public final class RequirementText {

    private static final Pattern LOWER = Pattern.compile("(?<!!)\\((?:bundle-)?version>=([^)]+)\\)");
    private static final Pattern UPPER = Pattern.compile("\\(!\\((?:bundle-)?version>=([^)]+)\\)\\)");
    private static final Pattern EXACT = Pattern.compile("\\((?:bundle-)?version=([^)]+)\\)");

    private RequirementText() {
    }

    public static String of(Requirement requirement) {
        String filter = requirement.getDirectives().getOrDefault(Namespace.REQUIREMENT_FILTER_DIRECTIVE, "");
        String namespace = requirement.getNamespace();
        return switch (namespace) {
            case "osgi.wiring.package" -> "package " + name(requirement) + versionRange(filter);
            case "osgi.wiring.bundle" -> "bundle " + name(requirement) + versionRange(filter);
            case "osgi.wiring.host" -> "fragment host " + name(requirement) + versionRange(filter);
            case "osgi.ee" -> "execution environment " + name(requirement) + versionRange(filter);
            case "osgi.service" -> "service " + attribute(filter, "objectClass");
            case "osgi.identity" -> "bundle " + name(requirement) + versionRange(filter);
            case RepositoryIndex.ARTIFACT_NAMESPACE -> "bundle " + name(requirement);
            case "osgi.extender", "osgi.implementation", "osgi.contract", "osgi.serviceloader" ->
                    namespace.substring("osgi.".length()) + " " + name(requirement) + versionRange(filter);
            default -> namespace + " " + filter;
        };
    }

    /** The value the filter asks of the namespace's own attribute (the package name, the EE name, ...), or the filter. */
    public static String name(Requirement requirement) {
        String filter = requirement.getDirectives().getOrDefault(Namespace.REQUIREMENT_FILTER_DIRECTIVE, "");
        return attribute(filter, requirement.getNamespace());
    }

    static String attribute(String filter, String name) {
        Matcher m = Pattern.compile("\\(" + Pattern.quote(name) + "=([^)]+)\\)").matcher(filter);
        return m.find() ? m.group(1) : filter;
    }

    static String versionRange(String filter) {
        Matcher exact = EXACT.matcher(filter);
        if (exact.find()) {
            return " " + exact.group(1);
        }
        Matcher lower = LOWER.matcher(filter);
        Matcher upper = UPPER.matcher(filter);
        boolean hasLower = lower.find();
        boolean hasUpper = upper.find();
        if (!hasLower && !hasUpper) {
            return "";
        }
        return " [" + (hasLower ? lower.group(1) : "0") + "," + (hasUpper ? upper.group(1) + ")" : ")");
    }
}
