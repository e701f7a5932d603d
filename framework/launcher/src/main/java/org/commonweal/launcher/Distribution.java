package org.commonweal.launcher;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.apache.felix.feature.impl.FeatureServiceImpl;
import org.osgi.service.feature.Feature;
import org.osgi.service.feature.FeatureBundle;
import org.osgi.service.feature.FeatureConfiguration;
import org.osgi.service.feature.FeatureExtension;
import org.osgi.service.feature.ID;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

/**
 * A distribution on disk: {@code feature.json} (an OSGi R8 feature: bundles, configurations, and
 * framework properties in the spec's {@code framework-launching-properties} extension) and
 * {@code bundles/}, the jars in Maven repository layout, so that each bundle id
 * {@code group:artifact[:type[:classifier]]:version} names exactly one file.
 *
 * @param directory             the distribution folder
 * @param featureFile           its feature file
 * @param id                    the feature id
 * @param name                  the distribution name (the feature's name, else its artifact id)
 * @param version               the feature version
 * @param bundles               the bundles in start order
 * @param configurations        the configurations by PID (a factory configuration as {@code factoryPid~name})
 * @param frameworkProperties   the framework properties the feature adds
 */
public record Distribution(Path directory, Path featureFile, String id, String name, String version,
        List<BundleArtifact> bundles, Map<String, Map<String, Object>> configurations,
        Map<String, String> frameworkProperties) {

    public static final String FEATURE_FILE = "feature.json";
    public static final String BUNDLES_DIR = "bundles";
    /** The extension that carries framework properties (OSGi Feature Service 1.0, "Framework Launching Properties"). */
    public static final String FRAMEWORK_PROPERTIES_EXTENSION = "framework-launching-properties";

    /** A bundle of the feature and its jar. */
    public record BundleArtifact(String id, Path jar) {
    }

    public static Distribution load(Path directory) throws LaunchException {
        Path featureFile = directory.resolve(FEATURE_FILE);
        if (!Files.isRegularFile(featureFile)) {
            throw new LaunchException("distribution " + directory + " has no " + FEATURE_FILE + ". Fix: name a folder that"
                    + " holds " + FEATURE_FILE + " and " + BUNDLES_DIR + "/, or build the distributions with ./mvnw install");
        }
        Feature feature = read(featureFile);
        ID id = feature.getID();
        Path bundleDir = directory.resolve(BUNDLES_DIR);
        List<BundleArtifact> bundles = new ArrayList<>();
        for (FeatureBundle bundle : feature.getBundles()) {
            Path jar = bundleDir.resolve(repositoryPath(bundle.getID()));
            if (!Files.isRegularFile(jar)) {
                throw new LaunchException("feature " + featureFile + " names bundle " + bundle.getID() + ", but there is no "
                        + jar + ". Fix: put that jar there (build the distribution with ./mvnw install), or remove the"
                        + " bundle from the feature");
            }
            bundles.add(new BundleArtifact(bundle.getID().toString(), jar));
        }
        Map<String, Map<String, Object>> configurations = new LinkedHashMap<>();
        for (FeatureConfiguration configuration : feature.getConfigurations().values()) {
            configurations.put(configuration.getPid(), new LinkedHashMap<>(configuration.getValues()));
        }
        return new Distribution(directory, featureFile, id.toString(), feature.getName().orElse(id.getArtifactId()),
                id.getVersion(), List.copyOf(bundles), configurations, frameworkProperties(feature, featureFile));
    }

    /** Jars under bundles/ that the feature does not name: harmless, but usually a mistake worth a warning. */
    public Set<Path> unlistedJars() throws IOException {
        Set<Path> named = new TreeSet<>();
        bundles.forEach(bundle -> named.add(bundle.jar().normalize()));
        Set<Path> unlisted = new TreeSet<>();
        Path bundleDir = directory.resolve(BUNDLES_DIR);
        if (Files.isDirectory(bundleDir)) {
            try (Stream<Path> files = Files.walk(bundleDir)) {
                files.filter(file -> file.toString().endsWith(".jar")).map(Path::normalize)
                        .filter(file -> !named.contains(file)).forEach(unlisted::add);
            }
        }
        return unlisted;
    }

    /** group/with/slashes/artifact/version/artifact-version[-classifier].type, as in a Maven repository. */
    static Path repositoryPath(ID id) {
        String file = id.getArtifactId() + "-" + id.getVersion() + id.getClassifier().map(c -> "-" + c).orElse("") + "."
                + id.getType().orElse("jar");
        return Path.of(id.getGroupId().replace('.', '/'), id.getArtifactId(), id.getVersion(), file);
    }

    static Feature read(Path featureFile) throws LaunchException {
        try (Reader reader = Files.newBufferedReader(featureFile)) {
            return new FeatureServiceImpl().readFeature(reader);
        } catch (IOException | RuntimeException e) {
            throw new LaunchException("feature " + featureFile + " cannot be read: " + e.getMessage() + ". Fix: make it a"
                    + " valid OSGi feature (JSON with \"feature-resource-version\": \"1.0\", \"id\" and \"bundles\")", e);
        }
    }

    private static Map<String, String> frameworkProperties(Feature feature, Path featureFile) throws LaunchException {
        Map<String, String> properties = new LinkedHashMap<>();
        FeatureExtension extension = feature.getExtensions().get(FRAMEWORK_PROPERTIES_EXTENSION);
        if (extension == null) {
            return properties;
        }
        if (extension.getType() != FeatureExtension.Type.JSON) {
            throw new LaunchException("feature " + featureFile + ": extension " + FRAMEWORK_PROPERTIES_EXTENSION + " must be"
                    + " of type json (an object of property names to string values), not " + extension.getType());
        }
        JsonObject json = Json.createReader(new StringReader(extension.getJSON())).readObject();
        for (Map.Entry<String, JsonValue> entry : json.entrySet()) {
            JsonValue value = entry.getValue();
            properties.put(entry.getKey(), value instanceof JsonString string ? string.getString() : value.toString());
        }
        return properties;
    }
}
