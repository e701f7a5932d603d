package org.commonweal.management;

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

import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import com.fasterxml.jackson.databind.JsonNode;
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
                    if (!values.containsKey(key) && !RUNTIME_KEYS.contains(key) && !key.startsWith("component.")
                            && !key.startsWith("osgi.") && !key.startsWith("service.")) {
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
