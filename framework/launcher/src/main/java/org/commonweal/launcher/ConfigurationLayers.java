package org.commonweal.launcher;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.felix.feature.impl.FeatureServiceImpl;
import org.osgi.service.feature.Feature;
import org.osgi.service.feature.FeatureConfiguration;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

/**
 * The configuration layers a node starts with: the bundles' defaults (in their component descriptions; the agent reads
 * those), the distribution's configurations, then the operator's, {@code <data>/config/operator.json}, the same shape as
 * a feature's {@code "configurations"} ({@code {"pid": {"key[:Type]": value}}}), each operator value replacing the
 * distribution's, then what the command line sets ({@code --port}), which wins. Which layer each value came from is written to {@code <data>/management/config-sources.json} for
 * {@code cw config show}. Neither the launcher nor the management agent ever writes the operator file: an upgrade
 * cannot overwrite an operator value.
 */
final class ConfigurationLayers {

    static final String OPERATOR_FILE = "config/operator.json";
    static final String SOURCES_FILE = "management/config-sources.json";

    private ConfigurationLayers() {
    }

    /** {@code configurations} with the operator's layer and the command line's applied (in place); the sources written. */
    static void apply(Map<String, Map<String, Object>> configurations, Map<String, Map<String, Object>> commandLine,
            Path dataDirectory) throws LaunchException {
        Map<String, Map<String, Object>> operator = readOperator(dataDirectory.resolve(OPERATOR_FILE));
        JsonObjectBuilder sources = Json.createObjectBuilder();
        Map<String, Map<String, Object>> merged = new LinkedHashMap<>();
        configurations.forEach((pid, values) -> merged.put(pid, new LinkedHashMap<>(values)));

        for (Map.Entry<String, Map<String, Object>> entry : operator.entrySet()) {
            merged.computeIfAbsent(entry.getKey(), k -> new LinkedHashMap<>()).putAll(entry.getValue());
        }
        commandLine.forEach((pid, values) -> merged.computeIfAbsent(pid, k -> new LinkedHashMap<>()).putAll(values));
        for (Map.Entry<String, Map<String, Object>> entry : merged.entrySet()) {
            String pid = entry.getKey();
            JsonObjectBuilder keys = Json.createObjectBuilder();
            entry.getValue().forEach((key, value) -> {
                Map<String, Object> fromOperator = operator.getOrDefault(pid, Map.of());
                Map<String, Object> fromDistribution = configurations.getOrDefault(pid, Map.of());
                JsonObjectBuilder record = Json.createObjectBuilder().add("value", text(value));
                if (commandLine.getOrDefault(pid, Map.of()).containsKey(key)) {
                    record.add("source", "command line");
                } else if (fromOperator.containsKey(key)) {
                    record.add("source", "operator");
                    if (fromDistribution.containsKey(key) && !text(fromDistribution.get(key)).equals(text(value))) {
                        record.add("overrides", "distribution value " + text(fromDistribution.get(key)));
                    }
                } else {
                    record.add("source", "distribution");
                }
                keys.add(key, record);
            });
            sources.add(pid, keys);
        }
        configurations.clear();
        configurations.putAll(merged);
        Path file = dataDirectory.resolve(SOURCES_FILE);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, sources.build().toString());
        } catch (IOException e) {
            throw new LaunchException("cannot write " + file + " (" + e.getMessage() + "). Fix: make the data directory"
                    + " writable", e);
        }
    }

    private static Map<String, Map<String, Object>> readOperator(Path file) throws LaunchException {
        Map<String, Map<String, Object>> layer = new LinkedHashMap<>();
        if (!Files.isRegularFile(file)) {
            return layer;
        }
        try {
            JsonObject configurations = Json.createReader(new StringReader(Files.readString(file))).readObject();
            // Read as a feature's configurations, so that types (key:Integer, ...) mean what they mean in a feature.
            String feature = Json.createObjectBuilder().add("feature-resource-version", "1.0")
                    .add("id", "org.commonweal:operator:1.0.0").add("configurations", configurations).build().toString();
            Feature read = new FeatureServiceImpl().readFeature(new StringReader(feature));
            for (FeatureConfiguration configuration : read.getConfigurations().values()) {
                layer.put(configuration.getPid(), new LinkedHashMap<>(configuration.getValues()));
            }
            return layer;
        } catch (IOException | RuntimeException e) {
            throw new LaunchException("the operator's configuration " + file + " cannot be read (" + e.getMessage() + ")."
                    + " Fix: make it a JSON object of PIDs to properties, as a feature's \"configurations\", e.g."
                    + " {\"org.commonweal.inference\": {\"maxQueued:Integer\": 32}}", e);
        }
    }

    private static String text(Object value) {
        if (value instanceof Object[] array) {
            return java.util.Arrays.toString(array);
        }
        return String.valueOf(value);
    }
}
