package org.commonweal.management;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;

import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import com.fasterxml.jackson.databind.JsonNode;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Every configuration value of the node with the layer it comes from: {@code default} (a component's description,
 * i.e. the bundle's own default), {@code distribution} (the feature), {@code operator} ({@code <data>/config/operator.json},
 * which wins over the distribution) or {@code command line}. The launcher records the last three at start
 * ({@code <data>/management/config-sources.json}); the defaults are read from Declarative Services now, so they are
 * those of the bundle versions that run. Neither the agent nor an upgrade writes configuration.
 */
final class ConfigurationReport {

    /** One value. {@code note}: what an operator value overrides, or which bundle a default is from. */
    public record Value(String pid, String key, String value, String source, String note) {
    }

    static final String SOURCES_FILE = "config-sources.json";
    private static final Set<String> RUNTIME_KEYS = Set.of("objectClass");

    private ConfigurationReport() {
    }

    static List<Value> of(Path managementDirectory, ServiceComponentRuntime scr) throws IOException {
        Map<String, Map<String, Value>> byPid = new LinkedHashMap<>();
        Path file = managementDirectory.resolve(SOURCES_FILE);
        if (Files.isRegularFile(file)) {
            JsonNode sources = new ObjectMapper().readTree(file.toFile());
            sources.fields().forEachRemaining(pid -> pid.getValue().fields().forEachRemaining(key -> byPid
                    .computeIfAbsent(pid.getKey(), k -> new LinkedHashMap<>()).put(key.getKey(), new Value(pid.getKey(),
                            key.getKey(), key.getValue().path("value").asText(), key.getValue().path("source").asText(),
                            key.getValue().path("overrides").asText(null)))));
        }
        for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs()) {
            for (String pid : description.configurationPid) {
                Map<String, Value> values = byPid.computeIfAbsent(pid, k -> new LinkedHashMap<>());
                description.properties.forEach((key, value) -> {
                    if (!values.containsKey(key) && configurable(key)) {
                        values.put(key, new Value(pid, key, text(value), "default",
                                "bundle " + description.bundle.symbolicName));
                    }
                });
            }
        }
        List<Value> all = new ArrayList<>();
        byPid.values().forEach(values -> all.addAll(values.values()));
        all.sort(Comparator.comparing(Value::pid).thenComparing(Value::key));
        return all;
    }

    /** The operator's values for the PIDs of {@code bundle}'s components: an upgrade keeps them (it writes none). */
    static List<String> operatorValuesOf(List<Value> values, Set<String> pids) {
        return values.stream().filter(v -> v.source().equals("operator") && pids.contains(v.pid()))
                .map(v -> v.pid() + " " + v.key() + " = " + v.value()).toList();
    }

    /**
     * Where an upgrade meets the operator: every operator value (kept, as always) for a key whose default differs between
     * the running version's components ({@code running}) and those of the jar about to run ({@code next}, read from
     * its {@code Service-Component} descriptions). The operator then knows the new version would have behaved otherwise
     * for that key, and can decide whether the value still fits.
     */
    static List<String> conflicts(List<Value> values, Map<String, Map<String, String>> running,
            Map<String, Map<String, String>> next) {
        List<String> conflicts = new ArrayList<>();
        for (Value v : values) {
            if (!v.source().equals("operator") || !running.containsKey(v.pid()) && !next.containsKey(v.pid())) {
                continue;
            }
            String was = running.getOrDefault(v.pid(), Map.of()).get(v.key());
            String becomes = next.getOrDefault(v.pid(), Map.of()).get(v.key());
            if (!java.util.Objects.equals(was, becomes)) {
                conflicts.add(v.pid() + " " + v.key() + ": the operator's " + v.value() + " is kept; the default changes from "
                        + (was == null ? "(none)" : was) + " to " + (becomes == null ? "(none)" : becomes));
            }
        }
        return conflicts;
    }

    /** The defaults of the components of a running bundle, by configuration PID and key. */
    static Map<String, Map<String, String>> defaultsOf(java.util.Collection<ComponentDescriptionDTO> descriptions) {
        Map<String, Map<String, String>> defaults = new LinkedHashMap<>();
        for (ComponentDescriptionDTO description : descriptions) {
            for (String pid : description.configurationPid) {
                description.properties.forEach((key, value) -> {
                    if (configurable(key)) {
                        defaults.computeIfAbsent(pid, k -> new LinkedHashMap<>()).put(key, text(value));
                    }
                });
            }
        }
        return defaults;
    }

    /**
     * The defaults of the components a bundle jar declares (its {@code Service-Component} XML files: each component's
     * {@code property} elements), by configuration PID and key, written as {@link #defaultsOf} writes them.
     */
    static Map<String, Map<String, String>> defaultsIn(byte[] jar) throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        String header = null;
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(jar))) {
            if (in.getManifest() != null) {
                header = in.getManifest().getMainAttributes().getValue("Service-Component");
            }
            for (JarEntry e; (e = in.getNextJarEntry()) != null; ) {
                if (e.getName().startsWith("OSGI-INF/") && e.getName().endsWith(".xml")) {
                    entries.put(e.getName(), in.readAllBytes());
                }
            }
        }
        Map<String, Map<String, String>> defaults = new LinkedHashMap<>();
        if (header == null) {
            return defaults;
        }
        for (String path : header.split(",")) {
            String glob = path.strip().replace(".", "\\.").replace("*", "[^/]*");
            for (var entry : entries.entrySet()) {
                if (entry.getKey().matches(glob)) {
                    componentDefaults(SignedRepository.xml(entry.getValue()), defaults);
                }
            }
        }
        return defaults;
    }

    private static void componentDefaults(Document document, Map<String, Map<String, String>> defaults) {
        NodeList all = document.getElementsByTagName("*");
        for (int i = 0; i < all.getLength(); i++) {
            Element component = (Element) all.item(i);
            if (!localName(component).equals("component")) {
                continue;
            }
            String name = component.getAttribute("name");
            List<String> pids = new ArrayList<>();
            for (String pid : (component.hasAttribute("configuration-pid") ? component.getAttribute("configuration-pid")
                    : name).split("\\s+")) {
                pids.add(pid.equals("$") ? name : pid);
            }
            NodeList children = component.getChildNodes();
            for (int j = 0; j < children.getLength(); j++) {
                if (children.item(j) instanceof Element property && localName(property).equals("property")
                        && configurable(property.getAttribute("name"))) {
                    String value = property.hasAttribute("value") ? property.getAttribute("value")
                            : property.getTextContent().strip().lines().map(String::strip).filter(l -> !l.isEmpty())
                                    .toList().toString();
                    for (String pid : pids) {
                        defaults.computeIfAbsent(pid, k -> new LinkedHashMap<>()).put(property.getAttribute("name"), value);
                    }
                }
            }
        }
    }

    private static String localName(Element element) {
        return element.getTagName().substring(element.getTagName().indexOf(':') + 1);
    }

    private static boolean configurable(String key) {
        return !RUNTIME_KEYS.contains(key) && !key.startsWith("component.") && !key.startsWith("osgi.")
                && !key.startsWith("service.");
    }

    private static String text(Object value) {
        if (value != null && value.getClass().isArray()) {
            List<String> items = new ArrayList<>();
            for (int i = 0; i < Array.getLength(value); i++) {
                items.add(String.valueOf(Array.get(value, i)));
            }
            return items.toString();
        }
        return String.valueOf(value);
    }
}
